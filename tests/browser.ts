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

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof launch>>["newPage"]>>;

/**
 * A screenshot kept as an artifact (never an assertion): Chromium now and then answers
 * "Unable to capture screenshot" while a page is being composited after a navigation or a
 * resize, so it is tried three times, and a shot that still fails is reported on stderr
 * instead of failing the test it illustrates.
 */
export async function artifactShot(
  page: Page,
  file: string,
  o: { fullPage?: boolean } = {},
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await page.screenshot({
        path: ARTIFACTS + file,
        fullPage: o.fullPage ?? true,
        timeout: 30_000,
      });
      return;
    } catch (err) {
      if (attempt === 3) {
        Deno.stderr.writeSync(new TextEncoder().encode(`no screenshot ${file}: ${err}\n`));
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A page with a 10 s default timeout, a record of page errors, and a screenshot helper. */
export async function openPage(browser: Awaited<ReturnType<typeof launch>>, prefix: string) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const shot = (name: string) => artifactShot(page, `${prefix}-${name}.png`);
  return { page, errors, shot };
}
