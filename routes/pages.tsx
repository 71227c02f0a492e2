/** / — the landing page (server-rendered, works without JavaScript). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Layout } from "@/components/Layout.tsx";
import { renderPage } from "@/lib/http/render.tsx";

function Landing() {
  return (
    <Layout title="dream-api — usage billing and stores on your own Stripe">
      <section class="hero">
        <h1>Monetize your API in an afternoon</h1>
        <p>
          Create a project, get a publishable and a secret key, and call <code>POST /api/data</code>
          {" "}
          from your app. dream-api counts usage per customer and billing period, enforces tier
          limits, sells upgrades through Stripe Checkout on your own Stripe account, and keeps
          subscriptions in sync from Stripe webhooks — you never handle a webhook.
        </p>
        <p>
          Selling things instead? A Store project gives you products, inventory and cart checkout.
        </p>
      </section>
      <section>
        <h2>Three calls</h2>
        <pre><code>{`curl -X POST $BASE/api/data -H "Authorization: Bearer sk_test_…" -H "X-User-Id: user_42"
curl $BASE/api/usage -H "Authorization: Bearer sk_test_…" -H "X-User-Id: user_42"
curl $BASE/api/tiers -H "Authorization: Bearer pk_test_…"`}</code></pre>
      </section>
    </Layout>
  );
}

export function mountPages(app: OpenAPIHono<AppEnv>) {
  app.get("/", (c) => c.html(renderPage(<Landing />)));
}
