import assert from "node:assert/strict";
import { checkIslandImports, islandNames } from "./islands.ts";

const ISLANDS = new URL("../islands", import.meta.url).pathname;

Deno.test("the islands import no server-only code", async () => {
  await checkIslandImports(ISLANDS);
  assert.ok((await islandNames(ISLANDS)).includes("UsageChart"));
});

Deno.test("checkIslandImports() refuses an island that imports KV code, allows type imports", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/Ok.tsx`,
      `import type { Tier } from "@/lib/kv/projects.ts";\nexport default () => null;\n`,
    );
    await checkIslandImports(dir);
    await Deno.writeTextFile(
      `${dir}/Bad.tsx`,
      `import { getProject } from "@/lib/kv/projects.ts";\nexport default () => null;\n`,
    );
    await assert.rejects(() => checkIslandImports(dir), /Bad\.tsx imports server-only code/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
