/** The page shell: head, skip link, header and main landmark. Server-only. */
import type { ComponentChildren } from "preact";

export function Layout(props: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a href="/" class="brand">dream-api</a>
          <nav aria-label="Main">
            <a href="/docs">Docs</a> <a href="/openapi.json">OpenAPI</a>
          </nav>
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
