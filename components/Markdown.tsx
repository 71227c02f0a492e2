/**
 * Inline Markdown (code spans, emphasis, links) of the API description's texts, rendered by the
 * maintained `marked`; raw HTML in a text is shown as text, never run. Server-only.
 */
import { Marked } from "marked";

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const md = new Marked({ renderer: { html: ({ text }: { text: string }) => esc(text) } });

export function Md(props: { text: unknown }) {
  const text = props.text === undefined || props.text === null ? "" : String(props.text);
  return <span dangerouslySetInnerHTML={{ __html: md.parseInline(text) as string }} />;
}
