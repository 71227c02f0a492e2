/** /v1/projects/:pk/coupons — a SaaS or Store project's promotion codes (developer API). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject } from "@/lib/projects/projects.ts";
import { createCoupon, deleteCoupon, listCoupons } from "@/lib/billing/coupons.ts";
import { CouponInputSchema } from "@/lib/catalog/coupons.ts";
import { audit } from "@/lib/http/audit.ts";
import { DEVELOPER, ERRORS, jsonRequest, ok, PkParam, PROVIDER_ERRORS } from "@/routes/_openapi.ts";

const base = { tags: ["Promotion codes"], security: DEVELOPER, middleware: [developerAuth()] };

const CouponSchema = z.object({
  code: z.string().openapi({ example: "LAUNCH20" }),
  percentOff: z.number().nullable(),
  amountOff: z.number().int().nullable().openapi({ description: "Minor units off" }),
  duration: z.enum(["once", "forever", "repeating"]),
  durationInMonths: z.number().int().nullable(),
  maxRedemptions: z.number().int().nullable(),
  expiresAt: z.string().nullable(),
  redemptions: z.number().int().openapi({ description: "Paid checkouts that used it" }),
  createdAt: z.string(),
}).openapi("Coupon");

const CodeParam = PkParam.extend({
  code: z.string().max(40).openapi({ param: { name: "code", in: "path" }, example: "LAUNCH20" }),
});

const create = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/coupons",
  summary: "Create a promotion code (a coupon and its code on the payment account)",
  description: "Exactly one of `percentOff` and `amountOff` (minor units of the project's " +
    "currency). `durationInMonths` goes with `repeating`. Codes are case-insensitive (stored " +
    "upper case). Checkouts take it as `promotionCode`.",
  request: { params: PkParam, body: jsonRequest(CouponInputSchema.openapi("CouponInput")) },
  responses: { 201: ok(z.object({ coupon: CouponSchema })), ...ERRORS, ...PROVIDER_ERRORS },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/coupons",
  summary: "The project's promotion codes with their redemptions",
  request: { params: PkParam },
  responses: { 200: ok(z.object({ coupons: z.array(CouponSchema) })), ...ERRORS },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/v1/projects/{pk}/coupons/{code}",
  summary: "Delete a promotion code: new checkouts refuse it; subscriptions keep theirs",
  request: { params: CodeParam },
  responses: {
    200: ok(z.object({ deleted: z.literal(true), code: z.string() })),
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

export function mountCouponRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(create, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    const coupon = await createCoupon(s, p, c.req.valid("json"));
    await audit(c, p.pk, {
      type: "coupon.created",
      summary: `promotion code ${coupon.code} created`,
    });
    return c.json({ coupon }, 201);
  });
  app.openapi(list, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    return c.json({ coupons: await listCoupons(s, p) }, 200);
  });
  app.openapi(remove, async (c) => {
    const s = c.get("services");
    const { pk, code } = c.req.valid("param");
    const p = await ownedProject(s, c.get("developer").id, pk);
    await deleteCoupon(s, p, code);
    await audit(c, p.pk, {
      type: "coupon.deleted",
      summary: `promotion code ${code.toUpperCase()} deleted`,
    });
    return c.json({ deleted: true as const, code: code.toUpperCase() }, 200);
  });
}
