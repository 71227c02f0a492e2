/** /dashboard/projects/:pk/integrate — integration snippets. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { ownOrigin } from "@/lib/http/request.ts";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountIntegratePage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/integrate",
    page((c, dev) =>
      projectPage(c, { dev, section: "/integrate", title: "Integrate" }, (p) => {
        const base = ownOrigin(c);
        const sk = p.mode === "live" ? "sk_live_…" : "sk_test_…";
        const snippets = p.type === "saas"
          ? [
            [
              "Track usage (your server)",
              `curl -X POST ${base}/api/data \\\n  -H "Authorization: Bearer ${sk}" \\\n  -H "X-User-Id: user_42"`,
            ],
            [
              "Read usage",
              `curl ${base}/api/usage -H "Authorization: Bearer ${sk}" -H "X-User-Id: user_42"`,
            ],
            ["Pricing page (browser)", `curl ${base}/api/tiers -H "Authorization: Bearer ${p.pk}"`],
            [
              "SDK (server)",
              `import { DreamApi } from "dream-api-sdk";\nconst dream = new DreamApi({ secretKey: process.env.DREAM_SECRET_KEY, baseUrl: "${base}" });\nawait dream.usage.track("user_42");`,
            ],
            [
              "SDK (browser)",
              `import { DreamBrowser } from "dream-api-sdk";\nconst dream = new DreamBrowser({ publishableKey: "${p.pk}", baseUrl: "${base}" });\nconst { tiers } = await dream.tiers();`,
            ],
          ]
          : [
            ["Products (browser)", `curl ${base}/api/products -H "Authorization: Bearer ${p.pk}"`],
            [
              "Cart checkout (browser)",
              `curl -X POST ${base}/api/cart/checkout -H "Authorization: Bearer ${p.pk}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"items":[{"productId":"prod_…","quantity":1}],"successUrl":"https://your.shop/thanks","cancelUrl":"https://your.shop/cart"}'`,
            ],
            [
              "SDK (browser)",
              `import { DreamBrowser } from "dream-api-sdk";\nconst dream = new DreamBrowser({ publishableKey: "${p.pk}", baseUrl: "${base}" });\nconst { url } = await dream.cart.checkout({ items, successUrl, cancelUrl });`,
            ],
          ];
        const install: [string, string][] = [
          [
            "Install the SDK from this server (npm, Node 18+: import or require)",
            `npm install ${base}/sdk/dream-api-sdk.tgz`,
          ],
          [
            "Or load it as an ES module (browsers, Deno)",
            `import { ${
              p.type === "saas" ? "DreamApi, " : ""
            }DreamBrowser } from "${base}/sdk/index.js";`,
          ],
        ];
        return (
          <>
            {[...install, ...snippets].map(([title, code]) => (
              <section>
                <h3>{title}</h3>
                <pre tabIndex={0}><code>{code}</code></pre>
              </section>
            ))}
            <p>
              Already using the original <code>@dream-api/sdk</code>? Point its <code>baseUrl</code>
              {" "}
              at{" "}
              <code>{base}</code>: the README section "Migrating from the original dream-api" lists
              what differs.
            </p>
            <p>
              Full reference: <a href="/docs">API docs</a> ·{" "}
              <a href="/openapi.json">OpenAPI document</a>
            </p>
          </>
        );
      })
    ),
  );
}
