/** /dashboard/projects/:pk/webhooks — outbound webhook endpoints and their deliveries. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import WebhooksPanel from "@/islands/WebhooksPanel.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";
import { EVENT_TYPES, listEndpoints } from "@/lib/outbound/endpoints.ts";

export function mountWebhooksPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/webhooks",
    page((c, dev) =>
      projectPage(c, { dev, section: "/webhooks", title: "Webhooks" }, async (p) => {
        const disabled = (p.webhooks ?? []).filter((e) => e.disabledAt !== null);
        const endpoints = await listEndpoints(c.get("services"), p);
        return (
          <>
            <p class="muted">
              Your app hears about changes as signed POSTs (Standard Webhooks: verify them with{" "}
              <code>verifyWebhook</code> from <code>dream-api-sdk</code>{" "}
              or any Standard Webhooks library). Failed deliveries are retried for 3 days.
            </p>
            {disabled.length > 0 && (
              <p class="warning" role="note" data-testid="webhooks-disabled">
                <strong>
                  {disabled.length} endpoint{disabled.length === 1 ? " is" : "s are"} disabled
                </strong>{" "}
                after failing for 3 days. Fix the receiver, then enable it below.
              </p>
            )}
            <Island
              name="WebhooksPanel"
              component={WebhooksPanel}
              props={{
                pk: p.pk,
                endpoints,
                eventTypes: EVENT_TYPES.filter((t) => t !== "ping"),
              }}
            />
          </>
        );
      })
    ),
  );
}
