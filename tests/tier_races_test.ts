/**
 * A tier changed by two requests at once: one that creates or edits it while another deletes it
 * answers what it did (never a 500), and a checkout whose tier is deleted while its price is
 * being made is a 409.
 */
import assert from "node:assert/strict";
import { developer, heldReads, project, subscribe, testApp } from "@/tests/helpers.ts";
import { createTier, deleteTier, updateTier } from "@/lib/projects/projects.ts";
import { ensureTierPrice } from "@/lib/catalog/sync.ts";
import { getProject } from "@/lib/kv/projects.ts";
import { AppError, ConflictError } from "@/lib/errors.ts";
import { applySubscription } from "@/lib/billing/subscriptions.ts";

Deno.test("a tier created or edited while another request deletes it answers as done, not 500", async () => {
  const reads = await heldReads();
  await using app = await testApp({ kv: reads.kv });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const ref = { platformId: dev.platformId, pk };
  const deleted = async (name: string) =>
    (await app.call("DELETE", `/v1/projects/${pk}/tiers/${name}`, { key: dev.dat })).status;

  // saved, then its provider sync (which reads the developer's account first) is held while the
  // tier is deleted
  const creating = await reads.begin(
    "developers",
    () => createTier(app.services, ref, { name: "scale", price: 2500, limit: 10 }),
  );
  assert.equal(await deleted("scale"), 200);
  reads.release();
  const made = await creating.result;
  assert.equal(made.tier.name, "scale");
  assert.equal(made.tier.price, 2500);

  const editing = await reads.begin(
    "developers",
    () => updateTier(app.services, { ...ref, name: "pro" }, { price: 2900 }),
  );
  assert.equal(await deleted("pro"), 200);
  reads.release();
  const edited = await editing.result;
  assert.equal(edited.tier.name, "pro");
  assert.equal(edited.tier.price, 2900);
  assert.deepEqual((await getProject(app.kv, pk))!.tiers.map((t) => t.name), ["free", "team"]);
});

Deno.test("a tier whose price is being made when it is deleted is a conflict, not a crash", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const before = (await getProject(app.kv, pk))!;
  const pro = before.tiers.find((t) => t.name === "pro")!;
  await deleteTier(app.services, { platformId: dev.platformId, pk, name: "pro" });
  // a checkout that read the project before the deletion, its price to be made anew
  await assert.rejects(
    () => ensureTierPrice(app.services, before, { ...pro, price: 4900 }),
    (e) => e instanceof ConflictError && /deleted meanwhile/.test(e.message),
  );
});

Deno.test("a tier deleted while a checkout for it is paid is refused as in use, never deleted under its subscriber", async () => {
  const reads = await heldReads();
  await using app = await testApp({ kv: reads.kv });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat);
  // the deletion reads the tier's paying subscribers (none yet) and is held there while a
  // checkout for the tier is paid
  const deleting = await reads.begin(
    "project_stats",
    () => deleteTier(app.services, { platformId: dev.platformId, pk, name: "pro" }),
  );
  await subscribe(app, sk, "ada", "pro");
  reads.release();
  await assert.rejects(deleting.result, (e) => e instanceof AppError && e.code === "tier_in_use");
  const p = (await getProject(app.kv, pk))!;
  assert.ok(p.tiers.some((t) => t.name === "pro"), "the tier stays");
  const ada = await app.call("GET", "/api/customers/ada", { key: sk });
  assert.equal(ada.body.customer.plan, "pro");
});

Deno.test("a subscription decided on a project read before its tier was deleted is not applied to the deleted tier", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 5 }, { name: "pro", price: 1900, limit: 100 }],
  });
  await app.call("POST", "/api/customers", { key: sk, body: { id: "late" } });
  const read = (await getProject(app.kv, pk))!; // the webhook's read, before the deletion
  const pro = read.tiers.find((t) => t.name === "pro")!;
  const del = await app.call("DELETE", `/v1/projects/${pk}/tiers/pro`, { key: dev.dat });
  assert.equal(del.status, 200, del.text); // no payer yet
  const now = app.clock.now();
  const outcome = await applySubscription(app.services, { project: read, customerId: "late" }, {
    sub: {
      id: "sub_late",
      tierId: pro.id,
      priceId: pro.priceId ?? "price_x",
      monthlyAmount: 1900,
      currency: "usd",
      status: "active",
      currentPeriodStart: new Date(now).toISOString(),
      currentPeriodEnd: new Date(now + 30 * 86_400_000).toISOString(),
      cancelAtPeriodEnd: false,
      updatedAt: now,
    },
  });
  assert.equal(outcome, "tier_gone");
  const c = (await app.call("GET", "/api/customers/late", { key: sk })).body.customer;
  assert.equal(c.subscription, null);
  assert.equal(c.plan, "free");
  const dash = (await app.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  assert.equal(dash.activeSubscriptions, 0);
});
