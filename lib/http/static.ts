/**
 * /static/* — files under static/, with content types and no directory traversal; /sdk/* — the
 * SDK built by `deno task build` (tarball and ES module), loadable from any origin.
 */
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

/** Island bundles and chunks named by content hash (`build/Name-1A2B3C4D5E.js`, `chunk-…`). */
const HASHED = /^build\/[A-Za-z0-9_.]+-[A-Z0-9]{8,}\.js$/;

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
      // bundles carry their content's hash in the name: a new build is a new URL
      "Cache-Control": HASHED.test(rel)
        ? "public, max-age=31536000, immutable"
        : "public, max-age=300",
    });
  } catch {
    throw new NotFoundError("No such file");
  }
}

const SDK_TYPES: Record<string, string> = {
  "dream-api-sdk.tgz": "application/gzip",
  "index.js": "text/javascript; charset=utf-8",
};

/** `GET /sdk/dream-api-sdk.tgz` (for `npm install <url>`) and `GET /sdk/index.js` (ES module). */
export async function serveSdk(c: Context<AppEnv>): Promise<Response> {
  const name = c.req.path.slice("/sdk/".length);
  const type = SDK_TYPES[name];
  if (!type) throw new NotFoundError("No such file");
  let data: Uint8Array;
  try {
    data = await Deno.readFile(new URL(`build/sdk/${name}`, ROOT));
  } catch {
    throw new NotFoundError("The SDK is not built: run `deno task build`");
  }
  return c.body(data as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": type,
    "Cache-Control": "public, max-age=300",
    // a page on the developer's own origin imports the module
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    ...(name.endsWith(".tgz") ? { "Content-Disposition": `attachment; filename="${name}"` } : {}),
  });
}
