import assert from "node:assert/strict";
import { sniffImage } from "@/lib/storage/storage.ts";
import { GIF, HTML, JPEG, PNG, SVG, WEBP } from "@/tests/fixtures_images.ts";
import { FsStorage } from "@/lib/storage/fs.ts";
import { loadImage, saveImage } from "@/lib/storage/assets.ts";
import { NotFoundError, ValidationError } from "@/lib/errors.ts";

Deno.test("sniffImage() knows png, jpeg, gif and webp by their bytes, and nothing else", () => {
  assert.equal(sniffImage(PNG), "png");
  assert.equal(sniffImage(JPEG), "jpg");
  assert.equal(sniffImage(GIF), "gif");
  assert.equal(sniffImage(WEBP), "webp");
  assert.equal(sniffImage(SVG), null);
  assert.equal(sniffImage(HTML), null);
  assert.equal(sniffImage(new Uint8Array()), null);
});

Deno.test("saveImage() and loadImage() on local files refuse bad bytes and foreign paths", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fs = new FsStorage(dir);
    const plt = "plt_" + "a".repeat(22);
    const name = await saveImage(fs, plt, PNG);
    assert.match(name, /^[0-9A-Za-z]{24}\.png$/);
    const img = await loadImage(fs, plt, name);
    assert.deepEqual(img.bytes, PNG);
    assert.equal(img.contentType, "image/png");
    await assert.rejects(() => saveImage(fs, plt, SVG), ValidationError);
    await assert.rejects(() => saveImage(fs, plt, new Uint8Array()), ValidationError);
    await assert.rejects(() => loadImage(fs, plt, "../../etc/passwd"), NotFoundError);
    await assert.rejects(() => loadImage(fs, "..", name), NotFoundError);
    await assert.rejects(() => loadImage(fs, "plt_" + "b".repeat(22), name), NotFoundError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FsStorage.put() writes private files and leaves nothing behind when a write fails", async () => {
  const dir = await Deno.makeTempDir();
  const rename = Deno.rename;
  try {
    const fs = new FsStorage(dir);
    const plt = "plt_" + "c".repeat(22);
    const name = await saveImage(fs, plt, PNG);
    assert.equal((await Deno.stat(`${dir}/${plt}/${name}`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/${plt}`)).mode! & 0o777, 0o700);
    // the disk fills up half-way: no empty or partial file may stay
    (Deno as { rename: typeof Deno.rename }).rename = () =>
      Promise.reject(new Deno.errors.WriteZero("No space left on device"));
    await assert.rejects(() => saveImage(fs, plt, PNG), Deno.errors.WriteZero);
    const left = [];
    for await (const e of Deno.readDir(`${dir}/${plt}`)) left.push(e.name);
    assert.deepEqual(left, [name], "only the first, complete image");
  } finally {
    (Deno as { rename: typeof Deno.rename }).rename = rename;
    await Deno.remove(dir, { recursive: true });
  }
});
