/**
 * [browser] at 390 px (a phone): project settings with toasts in view, deleting a project after
 * typing its name and restoring it, then deleting the account. No page wider than the screen.
 */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { artifactShot, ensureIslands, hasChromium, launch } from "@/tests/browser.ts";
import { runWebhooks } from "@/lib/outbound/deliver.ts";

Deno.test({
  name: "[browser] 390 px: rename (toast in view) → delete project → restore → delete account",
  ignore: !(await hasChromium()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ensureIslands();
    await using app = await testApp({ config: { webhookAllowPrivate: true } });
    await using srv = servePort(app);
    const dev = await developer(app, "phone@example.com");
    const { pk, sk } = await project(app, dev.dat, { name: "Pocket" });
    const browser = await launch();
    try {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const [name, ...value] = dev.cookie.split("=");
      await ctx.addCookies([{ name: name!, value: value.join("="), url: srv.base }]);
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const shot = (n: string) => artifactShot(page, `phone-${n}.png`);
      const fits = async () => {
        const over = await page.evaluate(() =>
          document.documentElement.scrollWidth - document.documentElement.clientWidth
        );
        const culprits = over > 0
          ? await page.evaluate(() =>
            [...document.querySelectorAll("body *")]
              .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5)
              .slice(0, 6)
              .map((e) => `${e.tagName}.${e.className}#${e.id}`)
          )
          : [];
        assert.equal(over, 0, `${page.url()} is ${over}px wider than the screen: ${culprits}`);
      };
      const toastInView = async (text: RegExp) => {
        const toast = page.locator(".toast:not(:empty)");
        // the message may replace an earlier one in the same toast: wait for this one
        await page.waitForFunction(
          (src) =>
            [...document.querySelectorAll(".toast")].some((e) =>
              new RegExp(src).test(e.textContent ?? "")
            ),
          text.source,
        );
        assert.equal(await toast.count(), 1, "one toast at a time");
        assert.match(await toast.textContent() ?? "", text);
        const box = await toast.boundingBox();
        assert.ok(
          box && box.y >= 0 && box.y + box.height <= 844,
          `toast at ${JSON.stringify(box)}`,
        );
      };
      const settings = `${srv.base}/dashboard/projects/${pk}/settings`;

      await t.step("rename: the toast shows in view, wherever the form is", async () => {
        await page.goto(settings);
        await page.waitForSelector("[data-island=ProjectSettings][data-hydrated]", {
          state: "attached",
        }).catch(() => {});
        await fits();
        await page.fill("#project-name", "Pocket Pro");
        await page.click("button:has-text('Save name')");
        await toastInView(/Name saved/);
        assert.equal(await page.textContent(".project-head [data-project-name]"), "Pocket Pro");
        await page.click("button:has-text('Turn on tax at checkout')");
        await toastInView(/Tax at checkout is on/);
        const p = await srv.call("GET", `/v1/projects/${pk}`, { key: dev.dat });
        assert.equal(p.body.project.automaticTax, true);
        await shot("settings-saved");
      });

      await t.step("delete: the button waits for the exact name; keys stop at once", async () => {
        await page.click("button:has-text('Delete project…')");
        const confirm = page.locator("[role=alertdialog] button[type=submit]");
        assert.equal(await confirm.isDisabled(), true);
        await page.fill("#delete-name", "Pocket");
        assert.equal(await confirm.isDisabled(), true, "the old name does not confirm");
        await page.fill("#delete-name", "Pocket Pro");
        await shot("delete-confirm");
        await confirm.click();
        await page.waitForSelector("[data-testid=deleted-state]");
        await toastInView(/Project deleted/);
        const r = await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u" } });
        assert.equal(r.status, 401);
        await page.goto(`${srv.base}/dashboard/projects/${pk}`);
        assert.match(await page.textContent("[data-testid=project-deleted]") ?? "", /deleted/);
        await fits();
        await page.goto(`${srv.base}/dashboard`);
        assert.match(await page.textContent("main") ?? "", /Pocket Pro \(deleted\)/);
        await fits();
      });

      await t.step("restore from Settings: the same key works again", async () => {
        await page.goto(settings);
        await page.click("button:has-text('Restore project')");
        await toastInView(/Project restored/);
        const r = await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u" } });
        assert.equal(r.status, 200, r.text);
        await shot("restored");
      });

      await t.step(
        "promotion codes: create one, see it listed, delete it after asking",
        async () => {
          await page.goto(`${srv.base}/dashboard/projects/${pk}/coupons`);
          await fits();
          await page.fill("#coupon-code", "phone10");
          await page.fill("#coupon-value", "10");
          await page.selectOption("#coupon-duration", "forever");
          await page.click("button:has-text('Create code')");
          await toastInView(/Code PHONE10 created/);
          assert.match(
            await page.textContent("[data-testid=coupon-PHONE10]") ?? "",
            /10% off, every payment/,
          );
          await fits();
          await page.click("[data-testid=coupon-PHONE10] button:has-text('Delete…')");
          await page.click("[data-testid=coupon-PHONE10] button:has-text('Delete PHONE10')");
          await toastInView(/deleted/);
          const list = await srv.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat });
          assert.equal(list.body.coupons.length, 0);
        },
      );

      await t.step(
        "webhooks: add an endpoint (secret once), send a test, read its delivery",
        async () => {
          const got: string[] = [];
          await using rx = Deno.serve(
            { port: 0, hostname: "127.0.0.1", onListen: () => {} },
            async (r) => {
              got.push(await r.text());
              return new Response("ok");
            },
          );
          await page.goto(`${srv.base}/dashboard/projects/${pk}/webhooks`);
          await fits();
          await page.fill("#endpoint-url", `http://127.0.0.1:${rx.addr.port}/hooks`);
          await page.check("#ev-customer\\.created");
          await page.click("button:has-text('Add endpoint')");
          await toastInView(/Endpoint added/);
          assert.match(await page.textContent(".secret") ?? "", /whsec_/);
          await page.click("button:has-text('Send test event')");
          await toastInView(/Test event queued/);
          await runWebhooks(app.services);
          assert.equal(got.length, 1);
          await page.click("button:has-text('Deliveries')");
          const table = await page.textContent("[data-testid=deliveries]") ?? "";
          assert.match(table, /ping/);
          assert.match(table, /delivered/);
          assert.match(table, /200 in \d+ ms/);
          await fits();
          await shot("webhooks");
        },
      );

      await t.step(
        "delete the account: a wrong password is refused, then everything ends",
        async () => {
          await page.goto(`${srv.base}/dashboard/account`);
          await fits();
          await page.click("button:has-text('Delete account…')");
          await page.fill("#delete-account-confirm", "not the password");
          await page.click("[role=alertdialog] button[type=submit]");
          await page.waitForSelector(".danger-zone .form-error");
          assert.equal((await srv.call("GET", "/v1/me", { key: dev.dat })).status, 200);
          await page.fill("#delete-account-confirm", "correct horse battery");
          await Promise.all([
            page.waitForURL(`${srv.base}/?account=deleted`),
            page.click("[role=alertdialog] button[type=submit]"),
          ]);
          await shot("account-deleted");
          assert.equal((await srv.call("GET", "/v1/me", { key: dev.dat })).status, 401);
          const r = await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u" } });
          assert.equal(r.status, 401);
          await page.goto(`${srv.base}/dashboard`);
          assert.match(page.url(), /\/signin/);
        },
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
});
