/** /api/customers, /api/customers/:id, /api/customers/:id/token — customers of a SaaS project (sk). */
import { retried } from "@/lib/afterward.ts";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth } from "@/lib/http/middleware/api_auth.ts";
import {
  createCustomer,
  CustomerIdSchema,
  CustomerInputSchema,
  CustomerPatchSchema,
  customerView,
  mintCustomerToken,
  requireCustomer,
  updateCustomer,
} from "@/lib/customers/customers.ts";
import { requireType } from "@/lib/projects/projects.ts";
import { removeCustomerAsDeveloper } from "@/lib/billing/admin.ts";
import {
  CustomerSchema,
  ERRORS,
  jsonRequest,
  ok,
  PROVIDER_ERRORS,
  SECRET,
} from "@/routes/_openapi.ts";

const IdParam = z.object({
  id: CustomerIdSchema.openapi({ param: { name: "id", in: "path" }, example: "user_42" }),
});

const create = createRoute({
  method: "post",
  path: "/api/customers",
  tags: ["Customers"],
  summary: "Create a customer",
  description: "`plan` may only name a free (price 0) tier; paid plans come from checkout. " +
    "`firstName`/`lastName` make `name` when it is not given. `password` is accepted for the " +
    "original dream-api SDK and ignored: customers don't sign in to this server, so it is " +
    "never stored.",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  request: { body: jsonRequest(CustomerInputSchema.openapi("CustomerInput")) },
  responses: { 201: ok(z.object({ customer: CustomerSchema }), "Created"), ...ERRORS },
});

const read = createRoute({
  method: "get",
  path: "/api/customers/{id}",
  tags: ["Customers"],
  summary: "A customer with plan, subscription and current usage",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  request: { params: IdParam },
  responses: { 200: ok(z.object({ customer: CustomerSchema })), ...ERRORS },
});

const remove = createRoute({
  method: "delete",
  path: "/api/customers/{id}",
  tags: ["Customers"],
  summary: "Delete a customer's data (not payment history)",
  description:
    "A paying subscription is canceled at the provider at once. Recorded in the project's events as `customer.deleted`, the secret key named by its first characters.",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  request: { params: IdParam },
  responses: {
    200: ok(z.object({ deleted: z.literal(true), id: z.string() })),
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

const update = createRoute({
  method: "patch",
  path: "/api/customers/{id}",
  tags: ["Customers"],
  summary: "Edit a customer",
  description: "Email, names and metadata (replaced whole); `plan` may only name a free tier, " +
    "and not while a subscription pays (409).",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  request: { params: IdParam, body: jsonRequest(CustomerPatchSchema.openapi("CustomerPatch")) },
  responses: { 200: ok(z.object({ customer: CustomerSchema })), ...ERRORS },
});

const token = createRoute({
  method: "post",
  path: "/api/customers/{id}/token",
  tags: ["Customers"],
  summary: "Mint a customer token (≤ 1 h) for browser calls with the publishable key",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  request: { params: IdParam },
  responses: { 200: ok(z.object({ token: z.string(), expiresAt: z.string() })), ...ERRORS },
});

export function mountCustomerRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(create, async (c) => {
    const s = c.get("services");
    const { project } = c.get("api");
    requireType(project, "saas");
    const customer = await createCustomer(s, project, c.req.valid("json"));
    // read back `retried`: the customer is made, a read failing for a moment must not say otherwise
    return c.json({ customer: await retried(() => customerView(s, project, customer)) }, 201);
  });
  app.openapi(read, async (c) => {
    const s = c.get("services");
    const { project } = c.get("api");
    requireType(project, "saas");
    const customer = await requireCustomer(s, project.pk, c.req.valid("param").id);
    return c.json({ customer: await customerView(s, project, customer) }, 200);
  });
  app.openapi(update, async (c) => {
    const s = c.get("services");
    const { project } = c.get("api");
    requireType(project, "saas");
    const customer = await updateCustomer(s, project, {
      id: c.req.valid("param").id,
      patch: c.req.valid("json"),
    });
    return c.json({ customer: await customerView(s, project, customer) }, 200);
  });
  app.openapi(remove, async (c) => {
    const { project } = c.get("api");
    const { id } = c.req.valid("param");
    // recorded in the audit log as the dashboard's deletions are, the key named as the actor
    await removeCustomerAsDeveloper(c.get("services"), project, { id, actor: c.get("actor") });
    return c.json({ deleted: true as const, id }, 200);
  });
  app.openapi(token, async (c) => {
    const { project } = c.get("api");
    requireType(project, "saas");
    return c.json(
      await mintCustomerToken(c.get("services"), project, c.req.valid("param").id),
      200,
    );
  });
}
