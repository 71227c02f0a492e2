/** Server-side rendering of Preact pages, with island markers and their scripts. */
import type { ComponentType, VNode } from "preact";
import { renderToString } from "preact-render-to-string";

let collecting: Set<string> | null = null;

/**
 * Marks an island: the component is rendered here on the server inside
 * `<div data-island="Name" data-props='…'>`, and the page loads `/static/build/Name.js`, which
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
  const scripts = [...used].map((n) =>
    `<script type="module" src="/static/build/${n}.js"></script>`
  ).join("");
  return html.replace("</body>", `${scripts}</body>`);
}
