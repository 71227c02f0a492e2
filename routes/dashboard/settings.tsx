/** /dashboard/projects/:pk/settings — name and end-user sign-in. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import ProjectSettings from "@/islands/ProjectSettings.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountSettingsPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/settings",
    page((c, dev) =>
      projectPage(c, { dev, section: "/settings", title: "Settings" }, (p) => (
        <Island
          name="ProjectSettings"
          component={ProjectSettings}
          props={{ pk: p.pk, name: p.name, endUserAuth: p.endUserAuth ?? null }}
        />
      ))
    ),
  );
}
