/**
 * The project shell's parts: the left navigation (project switcher and section links), the
 * test/live switch beside the project's name, and the breadcrumbs. Server-only.
 */
import type { Project } from "@/lib/kv/projects.ts";
import { Island } from "@/lib/http/render.tsx";
import ProjectSwitcher from "@/islands/ProjectSwitcher.tsx";

const SECTIONS = [
  ["", "Overview"],
  ["/tiers", "Tiers"],
  ["/customers", "Customers"],
  ["/orders", "Orders"],
  ["/coupons", "Promotion codes"],
  ["/events", "Events"],
  ["/keys", "Keys"],
  ["/webhooks", "Webhooks"],
  ["/live", "Go live"],
  ["/integrate", "Integrate"],
  ["/settings", "Settings"],
] as const;

/** A section's name in this project ("Products" for a Store's catalogue). */
export function sectionLabel(p: Project, section: string): string {
  if (section === "/tiers" && p.type === "store") return "Products";
  return SECTIONS.find(([path]) => path === section)?.[1] ?? "Overview";
}

export function ProjectSidebar(
  props: { project: Project; projects: Project[]; current: string },
) {
  const p = props.project;
  return (
    <aside class="sidebar project-nav" aria-label="Project navigation">
      <Island
        name="ProjectSwitcher"
        component={ProjectSwitcher}
        props={{
          current: p.pk,
          // the same section in the other project, except sections it may not have
          section: ["/orders", "/live"].includes(props.current) ? "" : props.current,
          projects: props.projects.map((x) => ({ pk: x.pk, label: `${x.name} (${x.mode})` })),
        }}
      />
      <nav aria-label="Project">
        {SECTIONS.filter(([path]) =>
          !(path === "/live" && p.mode === "live") && !(path === "/orders" && p.type !== "store")
        ).map(([path]) => (
          <a
            href={`/dashboard/projects/${p.pk}${path}`}
            aria-current={props.current === path ? "page" : undefined}
          >
            {sectionLabel(p, path)}
          </a>
        ))}
      </nav>
    </aside>
  );
}

/** "Test mode · Switch to live" beside the name (or "Not live yet" before promotion). */
export function ModeSwitch(props: { project: Project; current: string; testTwin: string | null }) {
  const p = props.project;
  const twin = p.mode === "test" ? p.livePk : props.testTwin;
  return (
    <p class="mode" aria-label="Mode">
      <span class={`badge ${p.mode}`}>{p.mode === "test" ? "Test mode" : "Live mode"}</span> {twin
        ? (
          <a href={`/dashboard/projects/${twin}${props.current}`}>
            Switch to {p.mode === "test" ? "live" : "test"}
          </a>
        )
        : p.mode === "test"
        ? <a href={`/dashboard/projects/${p.pk}/live`}>Not live yet</a>
        : null}
    </p>
  );
}

/** Projects › name › section (› this page, on a detail page). */
export function Breadcrumbs(props: { project: Project; section: string; page: string }) {
  const p = props.project;
  const label = sectionLabel(p, props.section);
  const detail = props.page !== label && props.section !== "";
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      <ol>
        <li>
          <a href="/dashboard">Projects</a>
        </li>
        <li>
          <a href={`/dashboard/projects/${p.pk}`} data-project-name>{p.name}</a>
        </li>
        {props.section !== "" && (
          <li>
            {detail
              ? <a href={`/dashboard/projects/${p.pk}${props.section}`}>{label}</a>
              : <span aria-current="page">{label}</span>}
          </li>
        )}
        {detail && (
          <li>
            <span aria-current="page">{props.page}</span>
          </li>
        )}
      </ol>
    </nav>
  );
}
