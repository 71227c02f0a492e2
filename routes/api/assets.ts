/** /api/assets/:platformId/:file — uploaded images, public, immutable, with ETag and long caching. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { loadImage } from "@/lib/storage/assets.ts";
import { ERRORS } from "@/routes/_openapi.ts";

const read = createRoute({
  method: "get",
  path: "/api/assets/{platformId}/{file}",
  tags: ["Assets"],
  summary: "An uploaded image",
  request: {
    params: z.object({
      platformId: z.string().max(80).openapi({ param: { name: "platformId", in: "path" } }),
      file: z.string().max(80).openapi({
        param: { name: "file", in: "path" },
        example: "aB3dE6gH9jK2mN5pQ8sT1vW4.png",
      }),
    }),
  },
  responses: {
    200: {
      description: "The image bytes",
      content: {
        "image/png": { schema: z.any() },
        "image/jpeg": { schema: z.any() },
        "image/gif": { schema: z.any() },
        "image/webp": { schema: z.any() },
      },
    },
    304: { description: "Not modified (If-None-Match)" },
    404: ERRORS[404],
  },
});

export function mountAssetRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(read, async (c) => {
    const { platformId, file } = c.req.valid("param");
    const img = await loadImage(c.get("services").storage, platformId, file);
    const headers = {
      "ETag": img.etag,
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; sandbox",
    };
    if (c.req.header("If-None-Match") === img.etag) return c.body(null, 304, headers);
    return c.body(img.bytes as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      "Content-Type": img.contentType,
    });
  });
}
