/** DELETE /v1/projects/:pk and POST /v1/projects/:pk/restore — deleting a project, and undo. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { audit } from "@/lib/http/audit.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { type ProjectRef, publicProject } from "@/lib/projects/projects.ts";
import { deleteProject, purgeAt, restoreProject } from "@/lib/projects/lifecycle.ts";
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

/** Deletes or restores a project (with its twin): records it for each, answers them. */
async function change(
  c: Context<AppEnv>,
  act: (s: Services, ref: ProjectRef) => Promise<Project[]>,
  event: (p: Project) => { type: string; summary: string },
) {
  const ref = { platformId: c.get("developer").id, pk: c.req.param("pk")! };
  const projects = await act(c.get("services"), ref);
  for (const p of projects) await audit(c, p.pk, event(p));
  return { projects: projects.map(publicProject) };
}

export function mountProjectLifecycleRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(remove, async (c) =>
    c.json(
      await change(c, deleteProject, (p) => ({
        type: "project.deleted",
        summary: `project deleted (restorable until ${purgeAt(p)?.slice(0, 10)})`,
      })),
      200,
    ));
  app.openapi(restore, async (c) =>
    c.json(
      await change(c, restoreProject, () => ({
        type: "project.restored",
        summary: "project restored",
      })),
      200,
    ));
}
