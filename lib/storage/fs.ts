/** Local-file object storage under DATA_DIR/assets. */
import type { ObjectStorage, StoredObject } from "@/lib/storage/storage.ts";
import { IMAGE_TYPES, type ImageExt } from "@/lib/storage/storage.ts";

export class FsStorage implements ObjectStorage {
  readonly kind = "fs" as const;
  #root: string;

  constructor(root: string) {
    this.#root = root.replace(/\/+$/, "");
  }

  #path(key: string) {
    if (!/^[A-Za-z0-9_]+\/[A-Za-z0-9]+\.[a-z]+$/.test(key)) {
      throw new Error(`bad storage key ${key}`);
    }
    return `${this.#root}/${key}`;
  }

  /**
   * Writes to a temporary file and renames it into place, so a failed write (disk full) leaves
   * no empty or partial file behind. Files are 0600 and folders 0700: private to the server.
   */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
    const tmp = `${path}.part-${crypto.randomUUID()}`;
    try {
      await Deno.writeFile(tmp, bytes, { createNew: true, mode: 0o600 });
      await Deno.rename(tmp, path);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const bytes = await Deno.readFile(this.#path(key));
      const ext = key.split(".").pop() as ImageExt;
      return { bytes, contentType: IMAGE_TYPES[ext] ?? "application/octet-stream" };
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }
}
