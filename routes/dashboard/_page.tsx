/** What every dashboard page shares: sign-in, the layout, the project header and paging. */
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { Layout } from "@/components/Layout.tsx";
import { Breadcrumbs, ModeSwitch, ProjectSidebar } from "@/components/ProjectNav.tsx";
import { renderPage } from "@/lib/http/render.tsx";
import { pageDeveloper } from "@/lib/http/page_auth.ts";
import type { Developer } from "@/lib/kv/developers.ts";
import { listProjects, ownedProject } from "@/lib/projects/projects.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { ComponentChildren } from "preact";
import { purgeAt } from "@/lib/projects/retention.ts";
import { dayInWords } from "@/lib/period.ts";

export type Page = (c: Context<AppEnv>, dev: Developer) => Promise<Response>;

/** Pages need a signed-in developer; others go to sign-in and come back. */
export function page(handler: Page) {
  return async (c: Context<AppEnv>) => {
    const dev = await pageDeveloper(c);
    if (!dev) return c.redirect(`/signin?next=${encodeURIComponent(c.req.path)}`, 303);
    return handler(c, dev);
  };
}

/** A dashboard page: the layout with the developer's menu around `body`. */
export function html(
  c: Context<AppEnv>,
  o: { dev: Developer; title: string },
  body: ComponentChildren,
) {
  return c.html(
    renderPage(
      <Layout title={`${o.title} — dream-api`} user={{ email: o.dev.email }}>{body}</Layout>,
    ),
  );
}

/**
 * A page of one of the developer's projects (`:pk`): its header, project navigation and, on
 * the sandbox, the live-mode warning, around what `body` renders for the project.
 */
export async function projectPage(
  c: Context<AppEnv>,
  o: { dev: Developer; section: string; title: string | ((p: Project) => string) },
  body: (p: Project) => Promise<ComponentChildren> | ComponentChildren,
) {
  const { dev, section } = o;
  const s = c.get("services");
  const p = await ownedProject(s, dev.id, c.req.param("pk")!);
  const title = typeof o.title === "function" ? o.title(p) : o.title;
  // deleted projects are left out of the switcher (except the one shown)
  const projects = (await listProjects(s, dev.id)).filter((x) => !x.deletedAt || x.pk === p.pk);
  const testTwin = projects.find((x) => x.livePk === p.pk)?.pk ?? null;
  return html(
    c,
    { dev, title: `${title} · ${p.name}` },
    (
      <div class="shell">
        <ProjectSidebar project={p} projects={projects} current={section} />
        <div class="shell-main">
          <Breadcrumbs project={p} section={section} page={title} />
          <div class="project-head">
            <h1>
              <span data-project-name>{p.name}</span>{" "}
              <span class="type">{p.type === "saas" ? "SaaS" : "Store"}</span>
            </h1>
            <ModeSwitch project={p} current={section} testTwin={testTwin} />
          </div>
          {p.deletedAt && (
            <p class="warning" role="note" data-testid="project-deleted">
              <strong>This project is deleted:</strong>{" "}
              its keys don't work and its data is removed on {dayInWords(Date.parse(purgeAt(p)!))}.
              {" "}
              <a href={`/dashboard/projects/${p.pk}/settings`}>Restore it in Settings</a>
            </p>
          )}
          {s.payments.kind === "sandbox" && (p.mode === "live" || section === "/live") && (
            <p class="warning" role="note" data-testid="no-live-provider">
              <strong>Live mode has no real payment provider configured.</strong>{" "}
              This server runs the offline sandbox: live checkouts are sandbox payments and no money
              moves. Set <code>STRIPE_SECRET_KEY_TEST</code>, <code>STRIPE_SECRET_KEY_LIVE</code>
              {" "}
              and <code>STRIPE_WEBHOOK_SECRETS</code> to take real payments.
            </p>
          )}
          <h2>{title}</h2>
          {await body(p)}
        </div>
      </div>
    ),
  );
}

/**
 * Previous/Next links for a cursor-paged list. KV cursors only go forward, so each link carries
 * the cursors of the pages before it (`prev`, dot-separated; "" is the first page); `total`, when
 * known, is shown with the page's position.
 */
export function Pager(
  props: {
    next: string | null;
    base: string;
    /** The request's `cursor` and `prev` query values. */
    cursor?: string | undefined;
    prev?: string | undefined;
    total?: number;
    shown?: number;
    pageSize?: number;
  },
) {
  const join = props.base.includes("?") ? "&" : "?";
  const prevs = props.prev ? props.prev.split(".").slice(-50) : [];
  const here = props.cursor ?? "";
  const href = (cursor: string, stack: string[]) => {
    const q = [
      ...(cursor ? [`cursor=${encodeURIComponent(cursor)}`] : []),
      ...(stack.length ? [`prev=${encodeURIComponent(stack.join("."))}`] : []),
    ];
    return q.length ? `${props.base}${join}${q.join("&")}` : props.base;
  };
  const onPage = props.cursor ? prevs.length + 1 : 0;
  const size = props.pageSize ?? 25;
  const from = onPage * size + 1;
  const to = onPage * size + (props.shown ?? 0);
  const back = props.cursor ? href(prevs.at(-1) ?? "", prevs.slice(0, -1)) : null;
  if (!props.next && !back && props.total === undefined) return null;
  return (
    <nav aria-label="Pages" class="pager">
      {props.total !== undefined && (props.shown ?? 0) > 0 && (
        <span data-testid="pager-position">
          {from}–{to} of {props.total}
        </span>
      )}
      {back && <a href={back} rel="prev">Previous page</a>}
      {props.next && (
        <a href={href(props.next, props.cursor ? [...prevs, here] : [""])} rel="next">
          Next page
        </a>
      )}
    </nav>
  );
}
