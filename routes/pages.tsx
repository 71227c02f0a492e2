/** / — the landing page (server-rendered, works without JavaScript). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Layout, type NavUser } from "@/components/Layout.tsx";
import { pageDeveloper } from "@/lib/http/page_auth.ts";
import { renderPage } from "@/lib/http/render.tsx";

function Landing(props: { user: NavUser | null }) {
  return (
    <Layout title="dream-api — usage billing and stores on your own Stripe" user={props.user}>
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
        <p>
          <a class="button" href={props.user ? "/dashboard" : "/signup"}>
            {props.user ? "Open the dashboard" : "Start free"}
          </a>{" "}
          <a href="/docs">Read the API reference</a>
        </p>
      </section>
      <section>
        <h2>Three calls</h2>
        <pre
          tabIndex={0}
        ><code>{`curl -X POST $BASE/api/data -H "Authorization: Bearer sk_test_…" -H "X-User-Id: user_42"
curl $BASE/api/usage -H "Authorization: Bearer sk_test_…" -H "X-User-Id: user_42"
curl $BASE/api/tiers -H "Authorization: Bearer pk_test_…"`}</code></pre>
      </section>
    </Layout>
  );
}

export function mountPages(app: OpenAPIHono<AppEnv>) {
  app.get("/", async (c) => {
    const dev = await pageDeveloper(c);
    return c.html(renderPage(<Landing user={dev ? { email: dev.email } : null} />));
  });
}
