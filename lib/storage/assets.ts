/** Uploaded images: checked by their bytes, stored under the developer's platform id. */
import type { ObjectStorage } from "@/lib/storage/storage.ts";
import { IMAGE_TYPES, sniffImage } from "@/lib/storage/storage.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { AppError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import { addAssetBytes } from "@/lib/kv/asset_usage.ts";

export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const PLATFORM_RE = /^plt_[0-9A-Za-z]{20,64}$/;
const FILE_RE = /^[0-9A-Za-z]{24}\.(png|jpg|webp|gif)$/;

/**
 * Stores an image for a developer under a random name. Only png, jpeg, webp and gif are taken,
 * recognised by their bytes (an SVG, HTML or anything else named .png is refused); empty and
 * over 5 MB files are refused. Returns the file name.
 */
export async function saveImage(
  storage: ObjectStorage,
  platformId: string,
  bytes: Uint8Array,
): Promise<string> {
  if (bytes.byteLength === 0) {
    throw new ValidationError("The file is empty", [{ field: "file", message: "empty" }]);
  }
  if (bytes.byteLength > MAX_IMAGE_BYTES) {
    throw new AppError("payload_too_large", `Images are at most ${MAX_IMAGE_BYTES} bytes`);
  }
  const ext = sniffImage(bytes);
  if (!ext) {
    throw new ValidationError("Only PNG, JPEG, WebP and GIF images are accepted", [
      { field: "file", message: "not a png, jpeg, webp or gif image" },
    ]);
  }
  const file = `${randomBase62(24)}.${ext}`;
  await storage.put(`${platformId}/${file}`, bytes, IMAGE_TYPES[ext]);
  return file;
}

/**
 * Stores an image within the developer's byte quota (`UPLOAD_QUOTA_MB`): the bytes are counted
 * before the write and given back if it fails, so a failed upload costs nothing and leaves no
 * file. Over the quota is 413.
 */
export async function storeImage(
  s: { kv: Deno.Kv; storage: ObjectStorage; config: { uploadQuotaBytes: number } },
  platformId: string,
  bytes: Uint8Array,
): Promise<string> {
  const quota = s.config.uploadQuotaBytes;
  if (!(await addAssetBytes(s.kv, platformId, { delta: bytes.byteLength, quota }))) {
    throw new AppError(
      "payload_too_large",
      `Image storage quota of ${Math.round(quota / 1024 / 1024)} MB is used up`,
      { details: { quotaBytes: quota } },
    );
  }
  try {
    return await saveImage(s.storage, platformId, bytes);
  } catch (err) {
    await addAssetBytes(s.kv, platformId, { delta: -bytes.byteLength, quota });
    throw err;
  }
}

/** An image by platform id and file name; anything that is not exactly such a pair is 404. */
export async function loadImage(storage: ObjectStorage, platformId: string, file: string) {
  if (!PLATFORM_RE.test(platformId) || !FILE_RE.test(file)) {
    throw new NotFoundError("No such asset");
  }
  const obj = await storage.get(`${platformId}/${file}`);
  if (!obj) throw new NotFoundError("No such asset");
  const ext = file.split(".").pop() as keyof typeof IMAGE_TYPES;
  return { bytes: obj.bytes, contentType: IMAGE_TYPES[ext], etag: `"${file.split(".")[0]}"` };
}
