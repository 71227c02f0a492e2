/** /v1/signup, /v1/login, /v1/logout, /v1/me (password, sessions) — developer accounts. */
import {
  AccountDeleteSchema,
  changePassword,
  deleteAccount,
  PasswordChangeSchema,
  signOutEverywhere,
} from "@/lib/accounts/settings.ts";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { deleteCookie, getCookie } from "hono/cookie";
import type { AppEnv } from "@/lib/http/context.ts";
import { clientAddress } from "@/lib/http/request.ts";
import {
  developerAuth,
  SESSION_COOKIE,
  setSessionCookie,
} from "@/lib/http/middleware/developer_auth.ts";
import { noForeignOrigin, requireSameOrigin } from "@/lib/http/middleware/csrf.ts";
import {
  CredentialsSchema,
  limitAuthAttempts,
  login,
  logout,
  publicDeveloper,
  signup,
} from "@/lib/accounts/accounts.ts";
import { DEVELOPER, ERRORS, jsonRequest, ok } from "@/routes/_openapi.ts";

const MeSchema = z.object({
  platformId: z.string().openapi({ example: "plt_4kT9sQ2mVb7xYz1aCdEfGh" }),
  email: z.string(),
  createdAt: z.string(),
  planStatus: z.string(),
  paymentConnection: z.object({
    provider: z.enum(["sandbox", "stripe"]),
    test: z.object({ accountId: z.string(), connectedAt: z.string() }).nullable(),
    live: z.object({ accountId: z.string(), connectedAt: z.string() }).nullable(),
  }).nullable(),
}).openapi("Developer");

const Credentials = CredentialsSchema.openapi("Credentials");

const signupRoute = createRoute({
  method: "post",
  path: "/v1/signup",
  tags: ["Developer account"],
  summary: "Create a developer account (and platform id); starts a session",
  middleware: [noForeignOrigin()],
  request: { body: jsonRequest(Credentials) },
  responses: {
    201: ok(z.object({ developer: MeSchema }), "Created; session cookie set"),
    ...ERRORS,
  },
});

const loginRoute = createRoute({
  method: "post",
  path: "/v1/login",
  tags: ["Developer account"],
  summary: "Sign in; repeated failures for one email are throttled (429)",
  description:
    "At most 5 failed password checks per account per 15 minutes, however many arrive at once " +
    "(the rest are 429 `rate_limited` with `Retry-After`), and `AUTH_RATE_LIMIT_PER_MINUTE` " +
    "sign-up and sign-in attempts per client address.",
  middleware: [noForeignOrigin()],
  request: { body: jsonRequest(Credentials) },
  responses: { 200: ok(z.object({ developer: MeSchema }), "Session cookie set"), ...ERRORS },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/v1/logout",
  tags: ["Developer account"],
  summary: "End the session",
  responses: { 200: ok(z.object({ ok: z.literal(true) })), ...ERRORS },
});

const meRoute = createRoute({
  method: "get",
  path: "/v1/me",
  tags: ["Developer account"],
  summary: "The signed-in developer: platform id, plan status, payment connection",
  security: DEVELOPER,
  middleware: [developerAuth()],
  responses: { 200: ok(z.object({ developer: MeSchema })), ...ERRORS },
});

const passwordRoute = createRoute({
  method: "post",
  path: "/v1/me/password",
  tags: ["Developer account"],
  summary: "Change the password; every other session ends, this browser gets a new one",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: { body: jsonRequest(PasswordChangeSchema.openapi("PasswordChange")) },
  responses: { 200: ok(z.object({ ok: z.literal(true) }), "New session cookie set"), ...ERRORS },
});

const everywhereRoute = createRoute({
  method: "post",
  path: "/v1/me/sessions/revoke",
  tags: ["Developer account"],
  summary: "Sign out everywhere: every dashboard session ends, this one too",
  security: DEVELOPER,
  middleware: [developerAuth()],
  responses: { 200: ok(z.object({ ok: z.literal(true) })), ...ERRORS },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/me",
  tags: ["Developer account"],
  summary: "Delete the account: projects deleted (purged after 30 days), tokens and sessions end",
  description: "`confirm` is the password (or, for a Clerk account, its email). While the " +
    "platform plan is paid, 409: cancel it first.",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: { body: jsonRequest(AccountDeleteSchema.openapi("AccountDelete")) },
  responses: {
    200: ok(z.object({ deleted: z.literal(true), projects: z.number().int() })),
    ...ERRORS,
  },
});

export function mountAuthRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(signupRoute, async (c) => {
    limitAuthAttempts(c.get("services"), clientAddress(c));
    const { developer, sessionToken } = await signup(c.get("services"), c.req.valid("json"));
    setSessionCookie(c, sessionToken);
    return c.json({ developer: publicDeveloper(developer) }, 201);
  });
  app.openapi(loginRoute, async (c) => {
    limitAuthAttempts(c.get("services"), clientAddress(c));
    const { developer, sessionToken } = await login(c.get("services"), c.req.valid("json"));
    setSessionCookie(c, sessionToken);
    return c.json({ developer: publicDeveloper(developer) }, 200);
  });
  app.openapi(logoutRoute, async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      requireSameOrigin(c);
      await logout(c.get("services"), token);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.json({ ok: true as const }, 200);
  });
  app.openapi(passwordRoute, async (c) => {
    const { sessionToken } = await changePassword(
      c.get("services"),
      c.get("developer"),
      c.req.valid("json"),
    );
    setSessionCookie(c, sessionToken);
    return c.json({ ok: true as const }, 200);
  });
  app.openapi(everywhereRoute, async (c) => {
    await signOutEverywhere(c.get("services"), c.get("developer"));
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.json({ ok: true as const }, 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const s = c.get("services");
    const dev = c.get("developer");
    const { projects } = await deleteAccount(s, dev, c.req.valid("json"));
    s.logger.info("account deleted", { developer: dev.id, projects });
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.json({ deleted: true as const, projects }, 200);
  });
  app.openapi(meRoute, (c) => c.json({ developer: publicDeveloper(c.get("developer")) }, 200));
}
