/** Client side of the island mechanism: hydrate every `[data-island=name]` with its JSON props. */
import { type ComponentType, h, hydrate } from "preact";

export function hydrateIslands(
  name: string,
  component: ComponentType<Record<string, unknown>>,
): void {
  for (const el of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    const props = JSON.parse(el.dataset.props ?? "{}");
    hydrate(h(component, props), el);
  }
}
