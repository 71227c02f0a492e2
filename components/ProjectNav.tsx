/** The project selector, test/live toggle and section links of a project's pages. */
import type { Project } from "@/lib/kv/projects.ts";
import { Island } from "@/lib/http/render.tsx";
import ProjectSwitcher from "@/islands/ProjectSwitcher.tsx";

const SECTIONS = [
  ["", "Overview"],
  ["/tiers", "Tiers"],
  ["/customers", "Customers"],
  ["/orders", "Orders"],
  ["/events", "Events"],
  ["/keys", "Keys"],
  ["/live", "Go live"],
  ["/integrate", "Integrate"],
  ["/settings", "Settings"],
] as const;

export function ProjectNav(
  props: { project: Project; projects: Project[]; current: string; testTwin: string | null },
) {
  const p = props.project;
  const twin = p.mode === "test" ? p.livePk : props.testTwin;
  return (
    <div class="project-nav">
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
      <nav aria-label="Project">
        {SECTIONS.filter(([path]) =>
          !(path === "/live" && p.mode === "live") && !(path === "/orders" && p.type !== "store")
        ).map((
          [path, label],
        ) => (
          <a
            href={`/dashboard/projects/${p.pk}${path}`}
            aria-current={props.current === path ? "page" : undefined}
          >
            {path === "/tiers" && p.type === "store" ? "Products" : label}
          </a>
        ))}
      </nav>
    </div>
  );
}
