/** /dashboard/account — the developer's own account: password, sessions, deletion. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import AccountSettings from "@/islands/AccountSettings.tsx";
import DeleteAccount from "@/islands/DeleteAccount.tsx";
import { html, page } from "@/routes/dashboard/_page.tsx";

export function mountAccountPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/account",
    page(async (c, dev) =>
      await html(
        c,
        { dev, title: "Account" },
        (
          <>
            <h1>Account</h1>
            <Island
              name="AccountSettings"
              component={AccountSettings}
              props={{ email: dev.email, clerk: dev.passwordHash === "clerk" }}
            />
            <Island
              name="DeleteAccount"
              component={DeleteAccount}
              props={{ email: dev.email, clerk: dev.passwordHash === "clerk" }}
            />
          </>
        ),
      )
    ),
  );
}
