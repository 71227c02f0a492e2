/** How long a deleted project's data is kept for undo. */
import type { Project } from "@/lib/kv/projects.ts";

export const DELETED_RETENTION_DAYS = 30;
export const DAY_MS = 86_400_000;

/** When a deleted project is purged (ISO), or null when it is not deleted. */
export function purgeAt(p: Project): string | null {
  if (!p.deletedAt) return null;
  return new Date(Date.parse(p.deletedAt) + DELETED_RETENTION_DAYS * DAY_MS).toISOString();
}
