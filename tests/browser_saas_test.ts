/** [browser] the developer journey for a SaaS project in real Chromium, with screenshots. */
import assert from "node:assert/strict";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { servePort, testApp } from "@/tests/helpers.ts";
import { ensureIslands, hasChromium, launch, openPage } from "@/tests/browser.ts";

Deno.test({
  name:
    "[browser] sign up → plan → connect → SaaS project → tiers → usage chart → go live → rotate key",
  ignore: !(await hasChromium()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ensureIslands();
    await using app = await testApp({ config: { platformPriceCents: 1500 } });
    await using srv = servePort(app);
    const browser = await launch();
    const { page, errors, shot } = await openPage(browser, "saas");
    let sk = "";
    let pk = "";
    try {
      await t.step("landing and sign-up (no JavaScript needed)", async () => {
        await page.goto(srv.base + "/");
        assert.match(await page.textContent("h1") ?? "", /Monetize your API/);
        await shot("landing");
        await page.click("text=Sign up");
        await page.fill("#email", "browser@example.com");
        await page.fill("#password", "a long enough password");
        await shot("signup");
        await Promise.all([page.waitForURL("**/dashboard"), page.click("button[type=submit]")]);
        assert.match(await page.textContent("h1") ?? "", /Dashboard/);
        await shot("dashboard-new");
      });

      await t.step("pay the platform plan in the sandbox, then connect payments", async () => {
        await Promise.all([
          page.waitForURL("**/sandbox/checkout/**"),
          page.click("text=Start the plan"),
        ]);
        assert.match(await page.textContent(".sandbox-banner") ?? "", /Sandbox/);
        await shot("sandbox-checkout");
        await Promise.all([page.waitForURL("**/dashboard"), page.click("button:has-text('Pay')")]);
        assert.match(await page.textContent(".checklist") ?? "", /✓ Start the platform plan/);
        await page.click("a:has-text('Connect payments')");
        await page.waitForSelector("text=✓ Connect payments");
        await shot("dashboard-onboarded");
      });

      await t.step("create a SaaS project; the secret key is shown once", async () => {
        await page.click("text=New project >> nth=0");
        await page.waitForSelector("text=The project type can't be changed later");
        await shot("wizard-type");
        await page.click("text=SaaS — subscription tiers with usage limits");
        await page.fill("#project-name", "Weather API");
        await page.fill("#t1-price", "-5");
        await page.click("button:has-text('Create project')");
        await page.waitForSelector(".field-error");
        assert.match(
          await page.textContent(".field-error") ?? "",
          /0|small|>=/i,
          "validation message next to the field",
        );
        await shot("wizard-error");
        await page.fill("#t1-price", "19");
        await page.fill("#t0-limit", "5");
        await page.click("button:has-text('Create project')");
        await page.waitForSelector("[data-testid=secret]");
        sk = (await page.textContent("[data-testid=secret]"))!.trim();
        pk = (await page.textContent("[data-testid=pk]"))!.trim();
        assert.match(sk, /^sk_test_/);
        await shot("wizard-created");
        await page.click("text=Open the project");
        await page.waitForSelector("[data-testid=m-customers]");
        assert.ok(!(await page.content()).includes(sk), "the secret is not shown again");
      });

      await t.step("edit a tier in the editor without re-keying", async () => {
        await page.goto(`${srv.base}/dashboard/projects/${pk}/tiers`);
        await page.waitForSelector("[data-testid=tier-free]");
        await page.waitForFunction(() =>
          document.querySelector("[data-island=TierEditor]") !== null
        );
        await page.fill("#e-free-limit", "50");
        await page.click("button:has-text('Save free')");
        await page.waitForSelector("text=Saved free");
        await shot("tier-editor");
        const tiers = await srv.call("GET", "/api/tiers", { key: pk });
        assert.equal(tiers.body.tiers[0].limit, 50);
        assert.equal(
          (await srv.call("GET", "/api/dashboard", { key: sk })).status,
          200,
          "keys unchanged",
        );
      });

      await t.step("deleting a tier asks first and offers Archive instead", async () => {
        const tiers = (await srv.call("GET", "/api/tiers", { key: pk })).body.tiers;
        const last = tiers[tiers.length - 1].name as string;
        await page.click(`button:has-text('Delete ${last}')`);
        await page.waitForSelector("[role=alertdialog]");
        assert.match(await page.textContent("[role=alertdialog]") ?? "", /Archive it instead/i);
        await shot("tier-delete-confirm");
        await page.click("button:has-text('Archive instead')");
        await page.waitForSelector(`text=Archived ${last}`);
        assert.ok(await page.isVisible(`[data-testid=tier-${last}] .badge.archived`));
        const offered = (await srv.call("GET", "/api/tiers", { key: pk })).body.tiers;
        assert.ok(!offered.some((t: { name: string }) => t.name === last), "hidden from pricing");
        await page.click(`button:has-text('Unarchive ${last}')`);
        await page.waitForSelector(`text=Restored ${last}`);
        assert.equal(
          (await srv.call("GET", "/api/tiers", { key: pk })).body.tiers.length,
          tiers.length,
        );
      });

      await t.step("usage from API calls appears in the metrics and on the chart", async () => {
        for (let i = 0; i < 7; i++) {
          await srv.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": `u${i % 3}` } });
        }
        await page.goto(`${srv.base}/dashboard/projects/${pk}`);
        assert.equal((await page.textContent("[data-testid=m-usage]"))!.trim(), "7");
        assert.equal((await page.textContent("[data-testid=m-customers]"))!.trim(), "3");
        await page.waitForSelector(".chart-canvas[data-ready=true] canvas");
        const today = new Date(app.clock.now()).toISOString().slice(0, 10);
        assert.equal((await page.textContent(`[data-testid=usage-${today}]`))!.trim(), "7");
        await shot("overview-chart");
        await page.goto(`${srv.base}/dashboard/projects/${pk}/customers`);
        await page.click("text=u0");
        assert.equal((await page.textContent("[data-testid=customer-plan]"))!.trim(), "free");
        await shot("customer");
      });

      await t.step("customer actions ask first: reset usage, then delete", async () => {
        const usageOf = async () =>
          (await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u0" } })).body
            .usage.count;
        assert.equal(await usageOf(), 3);
        await page.click("button:has-text('Reset usage…')");
        await page.waitForSelector("[role=alertdialog]");
        assert.match(await page.textContent("[role=alertdialog]") ?? "", /usage this period to 0/);
        await shot("customer-reset-confirm");
        await Promise.all([
          page.waitForEvent("load"),
          page.click("[role=alertdialog] button:has-text('Reset usage')"),
        ]);
        assert.equal(await usageOf(), 0);
        await srv.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "u0" } });
        await page.click("button:has-text('Delete customer…')");
        await page.waitForSelector("[role=alertdialog]");
        // no calls past a limit (a free tier): nothing about overage to say
        assert.match(
          await page.textContent("[role=alertdialog]") ?? "",
          /A paying subscription is canceled first\. This can't be undone\./,
        );
        await Promise.all([
          page.waitForURL(`${srv.base}/dashboard/projects/${pk}/customers`),
          page.click("[role=alertdialog] button:has-text('Delete customer')"),
        ]);
        assert.equal(
          (await srv.call("GET", "/api/customers/u0", { key: sk })).status,
          404,
        );
        const events = (await srv.call("GET", `/v1/projects/${pk}/events`, { key: sk })).status;
        assert.equal(events, 401, "events need the developer");
      });

      let livePk = "";
      await t.step("edit & go live; a second promote is refused", async () => {
        await page.goto(`${srv.base}/dashboard/projects/${pk}/live`);
        await page.fill("#live1-price", "29");
        await shot("go-live");
        await page.click("button:has-text('Create the live project')");
        await page.waitForSelector("[data-testid=live-pk]");
        livePk = (await page.textContent("[data-testid=live-pk]"))!.trim();
        assert.match(livePk, /^pk_live_/);
        assert.match(await page.textContent("p.mode") ?? "", /Switch to live/, "no reload needed");
        const live = await srv.call("GET", "/api/tiers", { key: livePk });
        assert.equal(live.body.tiers[1].price, 2900);
        await page.goto(`${srv.base}/dashboard/projects/${pk}/live`);
        assert.match(await page.textContent("main") ?? "", /already live/);
        const again = await page.evaluate(async (p) => {
          const r = await fetch(`/v1/projects/${p}/promote`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: "{}",
          });
          return r.status;
        }, pk);
        assert.equal(again, 409);
        await page.goto(`${srv.base}/dashboard/projects/${pk}`);
        await page.click("text=Switch to live");
        assert.match(await page.textContent(".badge") ?? "", /Live mode/);
      });

      await t.step(
        "rotate the secret key; the old key is refused after the grace period",
        async () => {
          await page.goto(`${srv.base}/dashboard/projects/${pk}/keys`);
          assert.equal((await page.textContent("[data-testid=pk]"))!.trim(), pk);
          await page.selectOption("#grace", "3600");
          await page.click("button:has-text('Rotate secret key')");
          await page.waitForSelector("[data-testid=secret]");
          const newSk = (await page.textContent("[data-testid=secret]"))!.trim();
          await shot("keys-rotated");
          assert.notEqual(newSk, sk);
          assert.equal(
            (await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u0" } }))
              .status,
            200,
            "within grace",
          );
          app.clock.advance(3601_000);
          assert.equal(
            (await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u0" } }))
              .status,
            401,
          );
          assert.equal(
            (await srv.call("GET", "/api/usage", { key: newSk, headers: { "X-User-Id": "u0" } }))
              .status,
            200,
          );
        },
      );

      await t.step("an immediate rotation asks first, then ends every older key", async () => {
        await page.goto(`${srv.base}/dashboard/projects/${pk}/keys`);
        await page.selectOption("#grace", "3600");
        await page.click("button:has-text('Rotate secret key')");
        await page.waitForSelector("[data-testid=secret]");
        const graced = (await page.textContent("[data-testid=secret]"))!.trim();
        await page.waitForFunction(() =>
          document.querySelectorAll("[data-testid=key-list] tbody tr").length === 2
        );
        await page.selectOption("#grace", "0");
        await page.click("button:has-text('Rotate secret key')");
        await page.waitForSelector("[role=alertdialog]");
        assert.match(await page.textContent("[role=alertdialog]") ?? "", /stops working now/);
        await shot("keys-confirm-now");
        await page.click("button:has-text('Rotate and end old keys now')");
        await page.waitForFunction((old) => {
          const el = document.querySelector("[data-testid=secret]");
          return el && el.textContent!.trim() !== old;
        }, graced);
        const fresh = (await page.textContent("[data-testid=secret]"))!.trim();
        await page.waitForFunction(() =>
          document.querySelectorAll("[data-testid=key-list] tbody tr").length === 1
        );
        assert.match(
          await page.textContent("[data-testid=key-list]") ?? "",
          new RegExp(fresh.slice(0, 12)),
        );
        for (const old of [graced]) {
          const res = await srv.call("GET", "/api/usage", {
            key: old,
            headers: { "X-User-Id": "u0" },
          });
          assert.equal(res.status, 401, "ended at once, grace or not");
        }
      });

      await t.step("access tokens page and integration snippets", async () => {
        await page.goto(`${srv.base}/dashboard/tokens`);
        await page.fill("#token-name", "ci");
        await page.click("button:has-text('Create token')");
        await page.waitForSelector("[data-testid=secret]");
        assert.match((await page.textContent("[data-testid=secret]"))!, /^dat_/);
        await shot("tokens");
        await page.goto(`${srv.base}/dashboard/projects/${pk}/integrate`);
        const text = await page.textContent("main") ?? "";
        assert.ok(text.includes(pk) && text.includes(srv.base));
        await shot("integrate");
      });

      await t.step("settings: end-user sign-in on (bad key refused), used, then off", async () => {
        const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
        const pem = await exportSPKI(publicKey);
        const now = Math.floor(Date.now() / 1000);
        const clerkToken = await new SignJWT({ sid: "sess_1" })
          .setProtectedHeader({ alg: "RS256" })
          .setSubject("user_browser")
          .setIssuedAt(now - 5)
          .setNotBefore(now - 5)
          .setExpirationTime(now + 300)
          .sign(privateKey);
        const withClerk = () =>
          srv.call("GET", "/api/usage", {
            headers: { "X-Publishable-Key": pk, "X-Clerk-Token": clerkToken },
          });
        await page.goto(`${srv.base}/dashboard/projects/${pk}/settings`);
        assert.match(await page.textContent("[data-testid=eua-state]") ?? "", /^Off/);
        await page.fill(
          "#eua-key",
          "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----",
        );
        await page.click("button:has-text('Turn on end-user sign-in')");
        await page.waitForSelector("#eua-key-err");
        assert.match(await page.textContent("[data-testid=eua-state]") ?? "", /^Off/);
        assert.equal((await withClerk()).status, 401);
        await page.fill("#eua-key", pem);
        await page.click("button:has-text('Turn on end-user sign-in')");
        await page.waitForSelector("[data-testid=settings-saved]");
        assert.match(await page.textContent("[data-testid=eua-state]") ?? "", /^On/);
        await shot("settings-end-user-sign-in");
        const used = await withClerk();
        assert.equal(used.status, 200, used.text);
        assert.equal(used.body.usage.userId, "user_browser");
        await page.click("button:has-text('Turn off')");
        await page.waitForFunction(() =>
          /^Off/.test(document.querySelector("[data-testid=eua-state]")?.textContent ?? "")
        );
        assert.equal((await withClerk()).status, 401);
      });

      await t.step("sign out", async () => {
        await Promise.all([
          page.waitForURL(srv.base + "/"),
          page.click("button:has-text('Sign out')"),
        ]);
        await page.goto(`${srv.base}/dashboard`);
        assert.match(page.url(), /\/signin/);
      });
      assert.deepEqual(errors, [], "no errors in the page");
    } finally {
      await browser.close();
    }
  },
});
