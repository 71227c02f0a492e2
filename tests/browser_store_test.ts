/** [browser] a Store project in real Chromium: wizard with image upload, purchase, metrics. */
import assert from "node:assert/strict";
import { servePort, testApp } from "@/tests/helpers.ts";
import { ensureIslands, hasChromium, launch, openPage } from "@/tests/browser.ts";
import { PNG } from "@/tests/fixtures_images.ts";

Deno.test({
  name:
    "[browser] store: create → upload image → product with image → sandbox purchase → sales and stock",
  ignore: !(await hasChromium()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ensureIslands();
    await using app = await testApp();
    await using srv = servePort(app);
    const browser = await launch();
    const { page, errors, shot } = await openPage(browser, "store");
    const imgPath = await Deno.makeTempFile({ suffix: ".png" });
    await Deno.writeFile(imgPath, PNG);
    let pk = "";
    try {
      await t.step("sign up and create a store with an uploaded product image", async () => {
        await page.goto(srv.base + "/signup");
        await page.fill("#email", "shop@example.com");
        await page.fill("#password", "a long enough password");
        await Promise.all([page.waitForURL("**/dashboard"), page.click("button[type=submit]")]);
        await page.goto(srv.base + "/dashboard/new");
        await page.click("text=Store — products with inventory");
        await page.fill("#project-name", "Merch");
        await page.fill("#t0-name", "mug");
        await page.fill("#t0-displayName", "Coffee mug");
        await page.fill("#t0-price", "12.50");
        await page.fill("#t0-inventory", "3");
        await page.setInputFiles("#t0-image", imgPath);
        await page.waitForSelector("img.preview");
        await shot("wizard-image");
        await page.click("button:has-text('Create project')");
        await page.waitForSelector("[data-testid=secret]");
        pk = (await page.textContent("[data-testid=pk]"))!.trim();
      });

      await t.step("the product has its image, served by us", async () => {
        const products = (await srv.call("GET", "/api/products", { key: pk })).body.products;
        assert.equal(products[0].displayName, "Coffee mug");
        assert.match(products[0].imageUrl, /\/api\/assets\/plt_\w+\/\w+\.png$/);
        const img = await fetch(products[0].imageUrl.replace(/^http:\/\/[^/]+/, srv.base));
        assert.deepEqual(new Uint8Array(await img.arrayBuffer()), PNG);
        await page.goto(`${srv.base}/dashboard/projects/${pk}/tiers`);
        await page.waitForSelector("img.preview");
        await shot("products");
      });

      await t.step("a sandbox purchase moves sales and stock", async () => {
        const product = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
        const co = await srv.call("POST", "/api/cart/checkout", {
          key: pk,
          body: {
            items: [{ productId: product.id, quantity: 1 }],
            successUrl: `${srv.base}/`,
            cancelUrl: `${srv.base}/`,
          },
        });
        assert.equal(co.status, 200, co.text);
        await page.goto(co.body.url);
        await page.fill("input[name=email]", "buyer@example.com");
        await shot("checkout");
        await Promise.all([page.waitForURL(srv.base + "/"), page.click("button:has-text('Pay')")]);
        await page.goto(`${srv.base}/dashboard/projects/${pk}`);
        assert.equal((await page.textContent("[data-testid=m-sales]"))!.trim(), "1");
        assert.equal((await page.textContent("[data-testid=m-revenue]"))!.trim(), "$12.50");
        assert.equal((await page.textContent("[data-testid=m-instock]"))!.trim(), "2");
        assert.equal((await page.textContent("[data-testid=m-lowstock]"))!.trim(), "1");
        await shot("overview");
        await page.goto(`${srv.base}/dashboard/projects/${pk}/events`);
        assert.match(await page.textContent("main") ?? "", /checkout\.session\.completed/);
        await shot("events");
      });

      await t.step(
        "the order in Orders; a refund asks first, restocks, and revenue drops",
        async () => {
          await page.goto(`${srv.base}/dashboard/projects/${pk}/orders`);
          assert.match(await page.textContent("main") ?? "", /buyer@example\.com/);
          await shot("orders");
          await page.click("table a");
          await page.waitForSelector("#refund-amount");
          assert.equal(await page.inputValue("#refund-amount"), "12.50");
          await page.check("#refund-restock");
          await page.click("button:has-text('Refund…')");
          await page.waitForSelector("[role=alertdialog]");
          assert.match(await page.textContent("[role=alertdialog]") ?? "", /\$12\.50/);
          await shot("order-refund-confirm");
          await page.click("button:has-text('Refund now')");
          await page.waitForSelector("[data-testid=refund-done]");
          await shot("order-refunded");
          await page.goto(`${srv.base}/dashboard/projects/${pk}`);
          assert.equal((await page.textContent("[data-testid=m-revenue]"))!.trim(), "$0.00");
          assert.equal((await page.textContent("[data-testid=m-instock]"))!.trim(), "3");
          await page.goto(`${srv.base}/dashboard/projects/${pk}/orders`);
          assert.match(await page.textContent("main") ?? "", /Refunded/);
        },
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await Deno.remove(imgPath);
    }
  },
});
