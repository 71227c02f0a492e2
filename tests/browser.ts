/** Browser-test helpers: Debian's Chromium driven by npm:playwright-core, screenshots kept as artifacts. */
import { chromium } from "playwright-core";

export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
export const ARTIFACTS = new URL("../test-artifacts/", import.meta.url).pathname;

export async function hasChromium(): Promise<boolean> {
  try {
    return (await Deno.stat(CHROMIUM)).isFile;
  } catch {
    return false;
  }
}

/** Built island bundles are needed for hydration; build them when missing. */
export async function ensureIslands(): Promise<void> {
  try {
    await Deno.stat(new URL("../static/build/sizes.json", import.meta.url));
    await Deno.stat(new URL("../static/build/manifest.json", import.meta.url));
    await Deno.stat(new URL("../static/build/sdk/dream-api-sdk.tgz", import.meta.url));
  } catch {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "build"],
      cwd: new URL("../", import.meta.url).pathname,
    }).output();
    if (out.code !== 0) throw new Error("island build failed");
  }
}

export async function launch() {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** A page with a 10 s default timeout, a record of page errors, and a screenshot helper. */
export async function openPage(browser: Awaited<ReturnType<typeof launch>>, prefix: string) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}${prefix}-${name}.png`, fullPage: true });
  return { page, errors, shot };
}
