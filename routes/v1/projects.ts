/** /v1/projects, /v1/projects/:pk and its tiers, dashboard, customers and usage — developer API. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import {
  createProject,
  createTier,
  deleteTier,
  listKeys,
  listProjects,
  ownedProject,
  ProjectInputSchema,
  ProjectPatchSchema,
  type ProjectRef,
  PromoteInputSchema,
  promoteProject,
  publicProject,
  renameProject,
  RotateInputSchema,
  rotateKey,
  updateTier,
} from "@/lib/projects/projects.ts";
import { publicTier, TierInputSchema, TierPatchSchema } from "@/lib/catalog/tiers.ts";
import { eventPage, projectMetrics, usageTimeSeries } from "@/lib/dashboard/metrics.ts";
import { customerPage } from "@/lib/customers/customers.ts";
import {
  CustomerSchema,
  DEVELOPER,
  ERRORS,
  jsonRequest,
  ok,
  ProjectSchema,
  TierSchema,
} from "@/routes/_openapi.ts";
import { DashboardSchema } from "@/routes/api/dashboard.ts";
import { PageQuery, PkParam } from "@/routes/_openapi.ts";
import { audit } from "@/lib/http/audit.ts";

const TierParam = PkParam.extend({
  name: z.string().max(63).openapi({ param: { name: "name", in: "path" }, example: "pro" }),
});
const TierInput = TierInputSchema.openapi("TierInput");
const KeysSchema = z.object({
  project: ProjectSchema,
  publishableKey: z.string(),
  secretKey: z.string().openapi({ description: "Shown this once; only its SHA-256 is stored" }),
});
const base = { tags: ["Projects"], security: DEVELOPER, middleware: [developerAuth()] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects",
  summary: "The developer's projects in creation order",
  responses: { 200: ok(z.object({ projects: z.array(ProjectSchema) })), ...ERRORS },
});
const create = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects",
  summary: "Create a SaaS or Store project (type locked forever) in test mode",
  request: {
    body: jsonRequest(
      ProjectInputSchema.extend({ tiers: z.array(TierInput).max(50).default([]) }).openapi(
        "ProjectInput",
      ),
    ),
  },
  responses: { 201: ok(KeysSchema, "Created; the secret key is shown this once"), ...ERRORS },
});
const read = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}",
  summary: "A project",
  request: { params: PkParam },
  responses: { 200: ok(z.object({ project: ProjectSchema })), ...ERRORS },
});
const patch = createRoute({
  ...base,
  method: "patch",
  path: "/v1/projects/{pk}",
  summary: "Rename a project (its type can't change)",
  request: { params: PkParam, body: jsonRequest(ProjectPatchSchema.openapi("ProjectPatch")) },
  responses: { 200: ok(z.object({ project: ProjectSchema })), ...ERRORS },
});
const listTiers = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/tiers",
  summary: "Tiers (SaaS) or products (Store) in display order",
  request: { params: PkParam },
  responses: { 200: ok(z.object({ tiers: z.array(TierSchema) })), ...ERRORS },
});
const addTier = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/tiers",
  summary: "Add a tier or product; keys unchanged",
  request: { params: PkParam, body: jsonRequest(TierInput) },
  responses: { 201: ok(z.object({ tier: TierSchema }), "Created"), ...ERRORS },
});
const editTier = createRoute({
  ...base,
  method: "patch",
  path: "/v1/projects/{pk}/tiers/{name}",
  summary: "Edit a tier or product (fields, `position` to reorder); keys unchanged",
  request: { params: TierParam, body: jsonRequest(TierPatchSchema.openapi("TierPatch")) },
  responses: { 200: ok(z.object({ tier: TierSchema })), ...ERRORS },
});
const removeTier = createRoute({
  ...base,
  method: "delete",
  path: "/v1/projects/{pk}/tiers/{name}",
  summary: "Delete a tier or product (not one in use, nor a SaaS project's last tier)",
  description:
    "A tier with active, trialing or past-due subscriptions is 409 `tier_in_use` (the message " +
    'gives the count): archive it instead with PATCH `{"archived": true}`. Customers on a deleted ' +
    "free tier fall back to the project's free tier. The provider product is archived.",
  request: { params: TierParam },
  responses: { 200: ok(z.object({ deleted: z.literal(true), name: z.string() })), ...ERRORS },
});
const dashboard = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/dashboard",
  summary: "Project metrics",
  request: { params: PkParam },
  responses: { 200: ok(DashboardSchema), ...ERRORS },
});
const customers = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/customers",
  summary: "Customers in creation order, with cursor pagination; `q` finds by id or email prefix",
  request: {
    params: PkParam,
    query: PageQuery.extend({
      q: z.string().trim().max(254).optional().openapi({
        description:
          "Id or email prefix: pages of `limit` matches with `nextCursor`, those found by id " +
          "first; empty (a search box left blank) lists every customer",
      }),
    }),
  },
  responses: {
    200: ok(z.object({ customers: z.array(CustomerSchema), nextCursor: z.string().nullable() })),
    ...ERRORS,
  },
});
const usage = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/usage",
  summary: "Usage per UTC day (default: the last 30 days)",
  request: {
    params: PkParam,
    query: z.object({
      from: z.string().max(10).optional().openapi({ example: "2026-11-01" }),
      to: z.string().max(10).optional().openapi({ example: "2026-11-30" }),
    }),
  },
  responses: {
    200: ok(z.object({ series: z.array(z.object({ day: z.string(), count: z.number().int() })) })),
    ...ERRORS,
  },
});

const promote = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/promote",
  summary:
    "Create the live twin (optionally with edited tiers) → live keys, secret shown once; 409 when it exists",
  request: {
    params: PkParam,
    body: jsonRequest(
      PromoteInputSchema.extend({ tiers: z.array(TierInput).min(1).max(50).optional() }).openapi(
        "PromoteInput",
      ),
    ),
  },
  responses: { 201: ok(KeysSchema, "Created"), ...ERRORS },
});
const rotate = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/keys/rotate",
  summary: "New secret key (shown once); the old one stops after graceSeconds (default 0)",
  description:
    "`graceSeconds: 0` ends every older key of the project at once, including keys still in " +
    "the grace period of an earlier rotation.",
  request: { params: PkParam, body: jsonRequest(RotateInputSchema.openapi("RotateInput")) },
  responses: {
    200: ok(
      z.object({ publishableKey: z.string(), secretKey: z.string(), oldKeyExpiresAt: z.string() }),
    ),
    ...ERRORS,
  },
});
const KeyListSchema = z.object({
  current: z.object({
    prefix: z.string().nullable().openapi({ example: "sk_test_8Fq2" }),
    createdAt: z.string(),
  }),
  previous: z.array(z.object({ prefix: z.string().nullable(), expiresAt: z.string() })),
}).openapi("KeyList");
const keys = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/keys",
  summary: "The current secret key's prefix and every older key still in its grace period",
  request: { params: PkParam },
  responses: { 200: ok(KeyListSchema), ...ERRORS },
});
const events = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/events",
  summary: "Payment events and developer actions, newest first, with cursor pagination",
  request: {
    params: PkParam,
    query: PageQuery.extend({
      type: z.string().regex(/^([a-z_]+(\.[a-z_]+)+)?$/, "an event type like order.refunded")
        .max(100).optional().openapi({
          description: "Only this type (events recorded from now on); empty: every type",
        }),
    }),
  },
  responses: {
    200: ok(z.object({
      events: z.array(
        z.object({
          id: z.string(),
          type: z.string(),
          created: z.number(),
          summary: z.string(),
          outcome: z.string(),
          actor: z.string().optional().openapi({
            description: "Who did it, on developer actions (`developer plt_…`)",
          }),
        }),
      ),
      nextCursor: z.string().nullable(),
    })),
    ...ERRORS,
  },
});

/** The project a route names, with the developer asking. */
function ref(c: Context<AppEnv>): ProjectRef {
  return { platformId: c.get("developer").id, pk: c.req.param("pk")! };
}

export function mountProjectRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(promote, async (c) => {
    const { project, secretKey } = await promoteProject(
      c.get("services"),
      ref(c),
      c.req.valid("json"),
    );
    await audit(c, ref(c).pk, {
      type: "project.promoted",
      summary: `promoted to live as ${project.pk}`,
    });
    return c.json({ project: publicProject(project), publishableKey: project.pk, secretKey }, 201);
  });
  app.openapi(keys, async (c) => {
    const out = await listKeys(c.get("services"), ref(c));
    return c.json(out, 200);
  });
  app.openapi(rotate, async (c) => {
    const input = c.req.valid("json");
    const out = await rotateKey(c.get("services"), ref(c), input);
    await audit(c, out.project.pk, {
      type: "key.rotated",
      summary: `secret key rotated; the previous one stops ${
        input.graceSeconds === 0 ? "now" : `at ${out.oldKeyExpiresAt}`
      }`,
    });
    return c.json({
      publishableKey: out.project.pk,
      secretKey: out.secretKey,
      oldKeyExpiresAt: out.oldKeyExpiresAt,
    }, 200);
  });
  app.openapi(events, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    const q = c.req.valid("query");
    return c.json(await eventPage(s, p, q), 200);
  });
  app.openapi(list, async (c) => {
    const projects = await listProjects(c.get("services"), c.get("developer").id);
    return c.json({ projects: projects.map(publicProject) }, 200);
  });
  app.openapi(create, async (c) => {
    const { project, secretKey } = await createProject(
      c.get("services"),
      c.get("developer").id,
      c.req.valid("json"),
    );
    return c.json({ project: publicProject(project), publishableKey: project.pk, secretKey }, 201);
  });
  app.openapi(read, async (c) => {
    const p = await ownedProject(c.get("services"), c.get("developer").id, c.req.valid("param").pk);
    return c.json({ project: publicProject(p) }, 200);
  });
  app.openapi(patch, async (c) => {
    const patch = c.req.valid("json");
    const p = await renameProject(c.get("services"), ref(c), patch);
    await audit(c, p.pk, {
      type: "project.updated",
      summary: `project settings changed (${Object.keys(patch).join(", ") || "nothing"})`,
    });
    return c.json({ project: publicProject(p) }, 200);
  });
  app.openapi(listTiers, async (c) => {
    const p = await ownedProject(c.get("services"), c.get("developer").id, c.req.valid("param").pk);
    return c.json({ tiers: p.tiers.map((t) => publicTier(p, t)) }, 200);
  });
  app.openapi(addTier, async (c) => {
    const r = await createTier(c.get("services"), ref(c), c.req.valid("json"));
    await audit(c, r.project.pk, { type: "tier.created", summary: `tier ${r.tier.name} added` });
    return c.json({ tier: publicTier(r.project, r.tier) }, 201);
  });
  app.openapi(editTier, async (c) => {
    const { pk, name } = c.req.valid("param");
    const change = c.req.valid("json");
    const r = await updateTier(
      c.get("services"),
      { platformId: c.get("developer").id, pk, name },
      change,
    );
    await audit(c, pk, {
      type: change.archived === true ? "tier.archived" : "tier.updated",
      summary: `tier ${name} ${change.archived === true ? "archived" : "changed"} (${
        Object.keys(change).join(", ")
      })`,
    });
    return c.json({ tier: publicTier(r.project, r.tier) }, 200);
  });
  app.openapi(removeTier, async (c) => {
    const { pk, name } = c.req.valid("param");
    await deleteTier(c.get("services"), { platformId: c.get("developer").id, pk, name });
    await audit(c, pk, { type: "tier.deleted", summary: `tier ${name} deleted` });
    return c.json({ deleted: true as const, name }, 200);
  });
  app.openapi(dashboard, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    return c.json(await projectMetrics(s, p), 200);
  });
  app.openapi(customers, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    const q = c.req.valid("query");
    return c.json(await customerPage(s, p, q), 200);
  });
  app.openapi(usage, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    const q = c.req.valid("query");
    return c.json({ series: await usageTimeSeries(s, p, q) }, 200);
  });
}
