/** Recording a developer's action from a request: the project's audit log, with the actor. */
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { recordAction } from "@/lib/audit.ts";

/** Records a developer action in the project's events, with the request's actor. */
export function audit(c: Context<AppEnv>, pk: string, o: { type: string; summary: string }) {
  return recordAction(c.get("services"), pk, { ...o, actor: c.get("actor") });
}
