/** /v1/assets — upload a product image (multipart `file`, png/jpeg/webp/gif ≤ 5 MB). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownOrigin } from "@/lib/http/request.ts";
import { MAX_IMAGE_BYTES, storeImage } from "@/lib/storage/assets.ts";
import { AppError, InvalidRequestError } from "@/lib/errors.ts";
import { DEVELOPER, ERRORS, ok } from "@/routes/_openapi.ts";

const upload = createRoute({
  method: "post",
  path: "/v1/assets",
  tags: ["Assets"],
  summary: "Upload an image; answers its public URL",
  description:
    "The type is recognised from the bytes: PNG, JPEG, WebP or GIF, at most 5 MB. SVG, HTML, empty " +
    "and larger files are refused. Each developer may store `UPLOAD_QUOTA_MB` (default 100) in all; " +
    "past that 413.",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: {
    body: {
      content: {
        "multipart/form-data": {
          schema: z.object({ file: z.any().openapi({ type: "string", format: "binary" }) }),
        },
      },
      required: true,
    },
  },
  responses: {
    201: ok(z.object({ url: z.string(), file: z.string(), size: z.number().int() }), "Stored"),
    ...ERRORS,
  },
});

export function mountAssetUploadRoutes(app: OpenAPIHono<AppEnv>) {
  // The multipart body is read here, under its own size limit, not by the JSON validator.
  app.openAPIRegistry.registerPath(upload);
  app.post("/v1/assets", developerAuth(), async (c) => {
    const ctype = c.req.header("Content-Type") ?? "";
    if (!ctype.startsWith("multipart/form-data")) {
      throw new InvalidRequestError("Upload as multipart/form-data with a `file` field", [
        { field: "Content-Type", message: "expected multipart/form-data" },
      ]);
    }
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch {
      throw new InvalidRequestError("Malformed multipart body", [{
        field: "body",
        message: "not multipart",
      }]);
    }
    const file = form.get("file");
    if (!(file instanceof File)) {
      throw new InvalidRequestError("Missing `file` field", [{
        field: "file",
        message: "required",
      }]);
    }
    if (file.size > MAX_IMAGE_BYTES) {
      throw new AppError("payload_too_large", "Images are at most 5 MB");
    }
    const dev = c.get("developer");
    const name = await storeImage(
      c.get("services"),
      dev.id,
      new Uint8Array(await file.arrayBuffer()),
    );
    return c.json({
      url: `${ownOrigin(c)}/api/assets/${dev.id}/${name}`,
      file: name,
      size: file.size,
    }, 201);
  });
}
