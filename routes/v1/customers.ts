/** /v1/projects/:pk/customers/:id/… — a developer's actions on one customer (SaaS). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject, requireType } from "@/lib/projects/projects.ts";
import { CustomerIdSchema, customerView, requireCustomer } from "@/lib/customers/customers.ts";
import {
  cancelCustomerSubscription,
  removeCustomerAsDeveloper,
  resetUsage,
} from "@/lib/billing/admin.ts";
import { usageHistory } from "@/lib/usage/history.ts";
import { retried } from "@/lib/afterward.ts";
import {
  CustomerSchema,
  DEVELOPER,
  ERRORS,
  jsonRequest,
  ok,
  PkParam,
  PROVIDER_ERRORS,
} from "@/routes/_openapi.ts";

const base = { tags: ["Customers"], security: DEVELOPER, middleware: [developerAuth()] };
const Params = PkParam.extend({
  id: CustomerIdSchema.openapi({ param: { name: "id", in: "path" }, example: "user_42" }),
});
const Answer = { 200: ok(z.object({ customer: CustomerSchema })), ...ERRORS };

const reset = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/customers/{id}/usage/reset",
  summary: "Set the customer's usage this period to 0",
  request: { params: Params },
  responses: Answer,
});

const CancelInput = z.object({
  atPeriodEnd: z.boolean().optional().openapi({
    description: "true: at the end of the paid period (undoable); default false: now",
  }),
}).strict().openapi("CancelInput");

const cancel = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/customers/{id}/subscription/cancel",
  summary: "Cancel the customer's subscription, now or at period end",
  request: { params: Params, body: jsonRequest(CancelInput) },
  responses: { ...Answer, ...PROVIDER_ERRORS },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/v1/projects/{pk}/customers/{id}",
  summary: "Delete a customer's data (a paying subscription is canceled first)",
  request: { params: Params },
  responses: {
    200: ok(z.object({ deleted: z.literal(true), id: z.string() })),
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

const history = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/customers/{id}/usage/history",
  summary:
    "The customer's usage per billing period, oldest first (the current one and up to 11 before)",
  request: { params: Params },
  responses: {
    200: ok(z.object({
      periods: z.array(z.object({ periodStart: z.string(), count: z.number().int() })),
    })),
    ...ERRORS,
  },
});

/** The developer's SaaS project of the path, and who acts. */
async function target(c: Context<AppEnv>, pk: string) {
  const s = c.get("services");
  const dev = c.get("developer");
  const project = await ownedProject(s, dev.id, pk);
  requireType(project, "saas");
  return { s, project, actor: c.get("actor") };
}

export function mountDeveloperCustomerRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(reset, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, project, actor } = await target(c, pk);
    await resetUsage(s, project, { id, actor });
    // read back `retried`: the reset is done, a read failing for a moment must not say otherwise
    const view = await retried(async () =>
      customerView(s, project, await requireCustomer(s, project.pk, id))
    );
    return c.json({ customer: view }, 200);
  });
  app.openapi(history, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, project } = await target(c, pk);
    const customer = await requireCustomer(s, project.pk, id);
    return c.json({ periods: await usageHistory(s, project, { customer }) }, 200);
  });
  app.openapi(remove, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, project, actor } = await target(c, pk);
    await removeCustomerAsDeveloper(s, project, { id, actor });
    return c.json({ deleted: true as const, id }, 200);
  });
  app.openapi(cancel, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, project, actor } = await target(c, pk);
    await cancelCustomerSubscription(s, project, {
      id,
      atPeriodEnd: c.req.valid("json").atPeriodEnd ?? false,
      actor,
    });
    const customer = await requireCustomer(s, project.pk, id);
    return c.json({ customer: await customerView(s, project, customer) }, 200);
  });
}
