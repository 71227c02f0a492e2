/**
 * [browser] Every dashboard page (SaaS and Store, with data), the landing, sign-in and docs:
 * axe-core finds no serious or critical violation, and at 390 px nothing is wider than the
 * screen. Screenshots at 1280 and 390 px go to test-artifacts/.
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { artifactShot, ensureIslands, hasChromium, launch } from "@/tests/browser.ts";

Deno.test({
  name: "[browser] axe-core on every dashboard page, and no horizontal overflow at 390 px",
  ignore: !(await hasChromium()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureIslands();
    await using app = await testApp();
    await using srv = servePort(app);
    const dev = await developer(app);
    const saas = await project(app, dev.dat, { name: "Weather API" });
    const store = await project(app, dev.dat, {
      name: "Merch",
      type: "store",
      tiers: [{ name: "mug", price: 1250, inventory: 3 }],
    });
    for (const id of ["u1", "u2"]) {
      await srv.call("POST", "/api/data", { key: saas.sk, headers: { "X-User-Id": id } });
    }
    const mug = (await srv.call("GET", "/api/products", { key: store.pk })).body.products[0];
    const co = await srv.call("POST", "/api/cart/checkout", {
      key: store.pk,
      body: {
        items: [{ productId: mug.id, quantity: 1 }],
        email: "buyer@example.com",
        name: "Grace Hopper",
        successUrl: "https://shop.example/ok",
        cancelUrl: "https://shop.example/no",
      },
    });
    await srv.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
    const s = (pk: string, rest: string[]) => rest.map((x) => `/dashboard/projects/${pk}${x}`);
    const pages = [
      "/",
      "/signin",
      "/docs",
      "/dashboard",
      "/dashboard/tokens",
      "/dashboard/account",
      "/dashboard/new",
      ...s(saas.pk, [
        "",
        "/tiers",
        "/customers",
        "/customers/u1",
        "/events",
        "/keys",
        "/live",
        "/integrate",
        "/settings",
        "/coupons",
        "/webhooks",
      ]),
      ...s(store.pk, ["", "/tiers", "/orders", `/orders/${co.body.reservationId}`, "/events"]),
    ];
    const browser = await launch();
    try {
      // axe is injected as a script: the pages' CSP allows only our own scripts, so the test's
      // context bypasses CSP (the pages themselves are served unchanged)
      const ctx = await browser.newContext({ bypassCSP: true });
      const [name, ...value] = dev.cookie.split("=");
      await ctx.addCookies([{ name: name!, value: value.join("="), url: srv.base }]);
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      for (const path of pages) {
        const slug =
          path.replace(/pk_test_\w+/, "P").replace(/res_\w+/, "O").replace(/\W+/g, "-") ||
          "root";
        for (const width of [1280, 390]) {
          await page.setViewportSize({ width, height: 900 });
          const res = await page.goto(srv.base + path);
          assert.equal(res?.status(), 200, path);
          // the docs page is very long: its shot is the first screen only
          await artifactShot(page, `a11y${slug}-${width}.png`, { fullPage: path !== "/docs" });
          if (width === 390) {
            const over = await page.evaluate(() =>
              document.documentElement.scrollWidth - document.documentElement.clientWidth
            );
            if (over > 0) problems.push(`${path}: ${over}px wider than 390`);
            continue;
          }
          await page.addScriptTag({ content: (axe as unknown as { source: string }).source });
          const found = await page.evaluate(async () => {
            // deno-lint-ignore no-explicit-any
            const r = await (globalThis as any).axe.run(document, { resultTypes: ["violations"] });
            return (r.violations as { id: string; impact: string; nodes: unknown[] }[])
              .filter((v) => v.impact === "serious" || v.impact === "critical")
              .map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`);
          });
          for (const f of found) problems.push(`${path}: ${f}`);
        }
      }
      // the project selector goes to the chosen project at once (same section), no Open button
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${srv.base}/dashboard/projects/${saas.pk}/events`);
      await page.waitForFunction(() => !document.querySelector(".project-nav button"));
      await Promise.all([
        page.waitForURL(`${srv.base}/dashboard/projects/${store.pk}/events`),
        page.selectOption("#project-select", store.pk),
      ]);

      // dark mode (prefers-color-scheme): the same axe check on every page
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.emulateMedia({ colorScheme: "dark" });
      for (const path of pages) {
        await page.goto(srv.base + path);
        await page.addScriptTag({ content: (axe as unknown as { source: string }).source });
        const found = await page.evaluate(async () => {
          // deno-lint-ignore no-explicit-any
          const r = await (globalThis as any).axe.run(document, { resultTypes: ["violations"] });
          return (r.violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}, ${v.nodes.length}: ${v.nodes[0]?.target})`);
        });
        for (const f of found) problems.push(`dark ${path}: ${f}`);
      }
      await artifactShot(page, "a11y-dark-overview.png");
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  },
});
