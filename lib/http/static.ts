/** /static/* — files under static/, with content types and no directory traversal. */
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { NotFoundError } from "@/lib/errors.ts";

const ROOT = new URL("../../static/", import.meta.url);
const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  map: "application/json",
};

export async function serveStatic(c: Context<AppEnv>): Promise<Response> {
  const rel = c.req.path.slice("/static/".length);
  if (!/^[A-Za-z0-9_./-]+$/.test(rel) || rel.split("/").some((p) => p === ".." || p === "")) {
    throw new NotFoundError("No such file");
  }
  try {
    const data = await Deno.readFile(new URL(rel, ROOT));
    const ext = rel.split(".").pop() ?? "";
    return c.body(data, 200, {
      "Content-Type": TYPES[ext] ?? "application/octet-stream",
      "Cache-Control": "public, max-age=300",
    });
  } catch {
    throw new NotFoundError("No such file");
  }
}
