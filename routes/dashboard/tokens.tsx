/** /dashboard/tokens — developer access tokens. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import { listTokens } from "@/lib/accounts/accounts.ts";
import TokensPanel from "@/islands/TokensPanel.tsx";
import { html, page } from "@/routes/dashboard/_page.tsx";

export function mountTokensPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/tokens",
    page(async (c, dev) => {
      const tokens = await listTokens(c.get("services"), dev.id);
      return html(
        c,
        { dev, title: "Access tokens" },
        (
          <>
            <h1>Access tokens</h1>
            <p>
              For automation and CLIs: send <code>Authorization: Bearer dat_…</code>{" "}
              to the developer API.
            </p>
            <Island name="TokensPanel" component={TokensPanel} props={{ tokens }} />
          </>
        ),
      );
    }),
  );
}
