/** /signin, /signup, /signout — sign-in pages that work without JavaScript (or Clerk's, when configured). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import type { AppEnv } from "@/lib/http/context.ts";
import { Layout } from "@/components/Layout.tsx";
import { renderPage } from "@/lib/http/render.tsx";
import { pageDeveloper, safeNext } from "@/lib/http/page_auth.ts";
import { clientAddress, formFields } from "@/lib/http/request.ts";
import { redirectTo } from "@/lib/http/response.ts";
import { requireSameOrigin } from "@/lib/http/middleware/csrf.ts";
import { SESSION_COOKIE, setSessionCookie } from "@/lib/http/middleware/developer_auth.ts";
import {
  CredentialsSchema,
  limitAuthAttempts,
  login,
  logout,
  signup,
} from "@/lib/accounts/accounts.ts";
import { AppError } from "@/lib/errors.ts";
import { clerkFrontendApi } from "@/lib/accounts/clerk.ts";

function AuthPage(
  props: { mode: "signin" | "signup"; error?: string; email?: string; next: string },
) {
  const signin = props.mode === "signin";
  const title = signin ? "Sign in" : "Create your account";
  return (
    <Layout title={`${title} — dream-api`}>
      <h1>{title}</h1>
      <form
        method="post"
        action={`/${props.mode}?next=${encodeURIComponent(props.next)}`}
        class="auth"
      >
        {props.error && <p class="form-error" role="alert" id="auth-error">{props.error}</p>}
        <label for="email">
          Email
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            value={props.email ?? ""}
            aria-describedby={props.error ? "auth-error" : undefined}
          />
        </label>
        <label for="password">
          Password {signin ? "" : "(at least 8 characters)"}
          <input
            id="password"
            name="password"
            type="password"
            autocomplete={signin ? "current-password" : "new-password"}
            required
            minLength={signin ? undefined : 8}
          />
        </label>
        <button type="submit">{title}</button>
      </form>
      <p>
        {signin
          ? <a href="/signup">No account yet? Sign up</a>
          : <a href="/signin">Already have an account? Sign in</a>}
      </p>
    </Layout>
  );
}

function ClerkPage(props: { publishableKey: string; next: string }) {
  const host = clerkFrontendApi(props.publishableKey);
  return (
    <Layout
      title="Sign in — dream-api"
      head={
        <script
          async
          crossorigin="anonymous"
          data-clerk-publishable-key={props.publishableKey}
          src={`https://${host}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`}
        />
      }
    >
      <h1>Sign in</h1>
      <div id="clerk-sign-in" data-next={props.next}>Loading Clerk sign-in…</div>
      <script type="module" src="/static/clerk.js" />
    </Layout>
  );
}

async function formOf(c: Context<AppEnv>) {
  const f = await formFields(c);
  return { email: f.email ?? "", password: f.password ?? "" };
}

export function mountAuthPages(app: OpenAPIHono<AppEnv>) {
  for (const mode of ["signin", "signup"] as const) {
    app.get(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query("next"));
      if (await pageDeveloper(c)) return redirectTo(c, next, 303);
      const clerk = c.get("services").config.clerk;
      if (clerk) {
        return c.html(renderPage(<ClerkPage publishableKey={clerk.publishableKey} next={next} />));
      }
      return c.html(renderPage(<AuthPage mode={mode} next={next} />));
    });
    app.post(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query("next"));
      const form = await formOf(c);
      const again = (error: string, status: 401 | 409 | 422 | 429) =>
        c.html(
          renderPage(<AuthPage mode={mode} next={next} error={error} email={form.email} />),
          status,
        );
      requireSameOrigin(c);
      const parsed = CredentialsSchema.safeParse(form);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        return again(`${String(i.path[0] ?? "input")}: ${i.message}`, 422);
      }
      try {
        const s = c.get("services");
        limitAuthAttempts(s, clientAddress(c));
        const out = mode === "signin" ? await login(s, parsed.data) : await signup(s, parsed.data);
        setSessionCookie(c, out.sessionToken);
        return redirectTo(c, next, 303);
      } catch (err) {
        if (err instanceof AppError && [401, 409, 429].includes(err.status)) {
          return again(err.message, err.status as 401 | 409 | 429);
        }
        throw err;
      }
    });
  }
  app.post("/signout", async (c) => {
    requireSameOrigin(c);
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await logout(c.get("services"), token);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/", 303);
  });
}
