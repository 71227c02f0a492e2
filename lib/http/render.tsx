/** Server-side rendering of Preact pages into full HTML responses. */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/** Renders a page element to an HTML document string. */
export function renderPage(page: VNode): string {
  return "<!doctype html>" + renderToString(page);
}
