import assert from "node:assert/strict";
import { Island, renderPage } from "@/lib/http/render.tsx";

function Hello(props: { name: string }) {
  return <p>Hello {props.name}</p>;
}

Deno.test("renderPage() renders islands server-side with their props and loads only their scripts", () => {
  const html = renderPage(
    <html>
      <body>
        <Island name="Hello" component={Hello} props={{ name: "<Ann>" }} />
      </body>
    </html>,
  );
  assert.match(html, /^<!doctype html>/);
  assert.match(
    html,
    /<div data-island="Hello" data-props="{&quot;name&quot;:&quot;&lt;Ann>&quot;}"><p>Hello &lt;Ann><\/p><\/div>/,
  );
  assert.match(html, /<script type="module" src="\/static\/build\/Hello\.js"><\/script><\/body>/);
  const plain = renderPage(
    <html>
      <body>
        <p>static</p>
      </body>
    </html>,
  );
  assert.ok(!plain.includes("<script"), "pages without islands ship no JavaScript");
});
