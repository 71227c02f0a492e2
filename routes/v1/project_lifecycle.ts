/** DELETE /v1/projects/:pk and POST /v1/projects/:pk/restore — deleting a project, and undo. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { publicProject } from "@/lib/projects/projects.ts";
import { deleteProject, purgeAt, restoreProject } from "@/lib/projects/lifecycle.ts";
import { recordAction } from "@/lib/audit.ts";
import { DEVELOPER, ERRORS, ok, PkParam, ProjectSchema } from "@/routes/_openapi.ts";

const base = { tags: ["Projects"], security: DEVELOPER, middleware: [developerAuth()] };
const Answer = z.object({ projects: z.array(ProjectSchema) });

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/v1/projects/{pk}",
  summary: "Delete a project (with its test or live twin); restorable for 30 days",
  description: "Its keys stop working at once. Its data is kept until `purgeAt` (30 days), " +
    "then removed for good; `POST …/restore` undoes the deletion until then. " +
    "A project deleted already is 409.",
  request: { params: PkParam },
  responses: { 200: ok(Answer), ...ERRORS },
});

const restore = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/restore",
  summary: "Undo a project's deletion: the same keys work again at once",
  request: { params: PkParam },
  responses: { 200: ok(Answer), ...ERRORS },
});

export function mountProjectLifecycleRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(remove, async (c) => {
    const s = c.get("services");
    const ref = { platformId: c.get("developer").id, pk: c.req.valid("param").pk };
    const projects = await deleteProject(s, ref);
    for (const p of projects) {
      await recordAction(s, p.pk, {
        type: "project.deleted",
        summary: `project deleted (restorable until ${purgeAt(p)?.slice(0, 10)})`,
        actor: c.get("actor"),
      });
    }
    return c.json({ projects: projects.map(publicProject) }, 200);
  });
  app.openapi(restore, async (c) => {
    const s = c.get("services");
    const ref = { platformId: c.get("developer").id, pk: c.req.valid("param").pk };
    const projects = await restoreProject(s, ref);
    for (const p of projects) {
      await recordAction(s, p.pk, {
        type: "project.restored",
        summary: "project restored",
        actor: c.get("actor"),
      });
    }
    return c.json({ projects: projects.map(publicProject) }, 200);
  });
}
