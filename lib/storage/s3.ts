/** S3-compatible object storage (AWS S3, R2, MinIO …) with SigV4 requests from npm:aws4fetch. */
import { AwsClient } from "aws4fetch";
import type { ObjectStorage, StoredObject } from "@/lib/storage/storage.ts";

export interface S3Options {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export class S3Storage implements ObjectStorage {
  readonly kind = "s3" as const;
  #client: AwsClient;
  #base: string;

  constructor(o: S3Options) {
    this.#client = new AwsClient({
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      region: o.region,
      service: "s3",
    });
    this.#base = `${o.endpoint.replace(/\/+$/, "")}/${o.bucket}`;
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    const res = await this.#client.fetch(`${this.#base}/${key}`, {
      method: "PUT",
      body: bytes as BodyInit,
      headers: { "Content-Type": contentType },
    });
    if (!res.ok) throw new Error(`S3 PUT ${key} failed: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }

  async get(key: string): Promise<StoredObject | null> {
    const res = await this.#client.fetch(`${this.#base}/${key}`, { method: "GET" });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw new Error(`S3 GET ${key} failed: ${res.status}`);
    return {
      bytes: new Uint8Array(await res.arrayBuffer()),
      contentType: res.headers.get("Content-Type") ?? "application/octet-stream",
    };
  }
}
