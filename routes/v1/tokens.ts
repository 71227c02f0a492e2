/** /v1/tokens, /v1/tokens/:id — developer access tokens (secret shown once). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { createToken, listTokens, revokeToken, TokenInputSchema } from "@/lib/accounts/accounts.ts";
import { DEVELOPER, ERRORS, jsonRequest, ok } from "@/routes/_openapi.ts";

const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().openapi({ example: "dat_Ab3dE6" }),
  createdAt: z.string(),
}).openapi("AccessToken");

const create = createRoute({
  method: "post",
  path: "/v1/tokens",
  tags: ["Developer account"],
  summary: "Create an access token; `secret` is shown this once",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: { body: jsonRequest(TokenInputSchema.openapi("AccessTokenInput")) },
  responses: {
    201: ok(z.object({ token: TokenSchema, secret: z.string() }), "Created"),
    ...ERRORS,
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/tokens",
  tags: ["Developer account"],
  summary: "List access tokens (never their secrets)",
  security: DEVELOPER,
  middleware: [developerAuth()],
  responses: { 200: ok(z.object({ tokens: z.array(TokenSchema) })), ...ERRORS },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/tokens/{id}",
  tags: ["Developer account"],
  summary: "Revoke an access token",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: { params: z.object({ id: z.string().max(64) }) },
  responses: { 200: ok(z.object({ deleted: z.literal(true), id: z.string() })), ...ERRORS },
});

export function mountTokenRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(create, async (c) => {
    const out = await createToken(
      c.get("services"),
      c.get("developer").id,
      c.req.valid("json").name,
    );
    return c.json(out, 201);
  });
  app.openapi(list, async (c) => {
    return c.json({ tokens: await listTokens(c.get("services"), c.get("developer").id) }, 200);
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await revokeToken(c.get("services"), c.get("developer").id, id);
    return c.json({ deleted: true as const, id }, 200);
  });
}
