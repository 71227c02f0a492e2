/** /dashboard/new — the new-project wizard. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import ProjectWizard from "@/islands/ProjectWizard.tsx";
import { html, page } from "@/routes/dashboard/_page.tsx";

export function mountNewPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/new",
    page((c, dev) =>
      Promise.resolve(html(
        c,
        { dev, title: "New project" },
        (
          <>
            <h1>New project</h1>
            <Island name="ProjectWizard" component={ProjectWizard} props={{}} />
          </>
        ),
      ))
    ),
  );
}
