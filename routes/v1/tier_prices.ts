/** A tier's prices and who pays each (grandfathering), and moving subscribers to the current one. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject, requireType } from "@/lib/projects/projects.ts";
import { moveToCurrentPrice, tierPrices } from "@/lib/billing/grandfathering.ts";
import { audit } from "@/lib/http/audit.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { DEVELOPER, ERRORS, ok, PkParam, PROVIDER_ERRORS } from "@/routes/_openapi.ts";

const base = { tags: ["Tiers"], security: DEVELOPER, middleware: [developerAuth()] };
const TierParam = PkParam.extend({
  name: z.string().max(63).openapi({ param: { name: "name", in: "path" }, example: "pro" }),
});
const PriceRow = z.object({
  priceId: z.string().nullable(),
  amount: z.number().int(),
  currency: z.string(),
  subscribers: z.number().int(),
});

const prices = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/tiers/{name}/prices",
  summary: "The tier's current price and the older ones its subscribers still pay",
  request: { params: TierParam },
  responses: {
    200: ok(z.object({ current: PriceRow, older: z.array(PriceRow) })),
    ...ERRORS,
  },
});

const move = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/tiers/{name}/move-subscribers",
  summary: "Move the tier's subscribers on older prices to the current one at their next renewal",
  description: "Each subscription's price changes without proration: the period already paid " +
    "stays as it was, the renewal charges the current price.",
  request: { params: TierParam },
  responses: { 200: ok(z.object({ moved: z.number().int() })), ...ERRORS, ...PROVIDER_ERRORS },
});

export function mountTierPriceRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(prices, async (c) => {
    const s = c.get("services");
    const { pk, name } = c.req.valid("param");
    const p = await ownedProject(s, c.get("developer").id, pk);
    requireType(p, "saas");
    const tier = p.tiers.find((t) => t.name === name);
    if (!tier) throw new NotFoundError(`No tier "${name}" in this project`);
    return c.json(await tierPrices(s, p, tier), 200);
  });
  app.openapi(move, async (c) => {
    const s = c.get("services");
    const { pk, name } = c.req.valid("param");
    const p = await ownedProject(s, c.get("developer").id, pk);
    requireType(p, "saas");
    const out = await moveToCurrentPrice(s, p, name);
    await audit(c, pk, {
      type: "tier.subscribers_moved",
      summary: `${out.moved} subscriber(s) of ${name} move to its current price at renewal`,
    });
    return c.json(out, 200);
  });
}
