/** Server-side rendering of Preact pages, with island markers and their scripts. */
import type { ComponentType, VNode } from "preact";
import { renderToString } from "preact-render-to-string";

let collecting: Set<string> | null = null;

/**
 * Marks an island: the component is rendered here on the server inside
 * `<div data-island="Name" data-props='…'>`, and the page loads its bundle (`/static/build/Name-<hash>.js`), which
 * hydrates every marker of that name with the same props. Props must be plain JSON.
 */
export function Island<P extends Record<string, unknown>>(
  { name, component: C, props }: { name: string; component: ComponentType<P>; props: P },
) {
  collecting?.add(name);
  return (
    <div data-island={name} data-props={JSON.stringify(props)}>
      <C {...props} />
    </div>
  );
}

/**
 * Island name → its content-hashed bundle (static/build/manifest.json, written by the build;
 * read again when a rebuild replaced it, as `deno task dev` does).
 */
const MANIFEST = new URL("../../static/build/manifest.json", import.meta.url);
let manifest: { at: number; files: Record<string, string> } | null = null;
export function islandScript(name: string): string {
  let at = -1;
  try {
    at = Deno.statSync(MANIFEST).mtime?.getTime() ?? 0;
  } catch {
    // not built: pages still render, islands stay server-rendered HTML
  }
  if (manifest?.at !== at) {
    let files: Record<string, string> = {};
    try {
      files = JSON.parse(Deno.readTextFileSync(MANIFEST)) as Record<string, string>;
    } catch { /* not built (above) */ }
    manifest = { at, files };
  }
  return `/static/build/${manifest.files[name] ?? `${name}.js`}`;
}

/** Renders a page to HTML; island scripts are added before `</body>` for the islands it used. */
export function renderPage(page: VNode): string {
  const used = new Set<string>();
  collecting = used;
  let html: string;
  try {
    html = "<!doctype html>" + renderToString(page);
  } finally {
    collecting = null;
  }
  if (used.size === 0) return html;
  const scripts = [...used].map((n) => `<script type="module" src="${islandScript(n)}"></script>`)
    .join("");
  return html.replace("</body>", `${scripts}</body>`);
}
