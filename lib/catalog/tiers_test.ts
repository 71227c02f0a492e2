import assert from "node:assert/strict";
import {
  addTier,
  buildTiers,
  editTier,
  freeTier,
  publicTier,
  removeTier,
  tierOf,
} from "@/lib/catalog/tiers.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";

function saas(): Project {
  return {
    pk: "pk_test_x",
    platformId: "plt_x",
    name: "x",
    type: "saas",
    mode: "test",
    secretHash: "h",
    tiers: buildTiers("saas", [{ name: "free", price: 0, limit: 10 }, {
      name: "pro",
      price: 2000,
      limit: 1000,
    }]),
    listId: "1",
    createdAt: "",
    updatedAt: "",
    livePk: null,
  };
}

Deno.test("buildTiers() applies defaults per project type", () => {
  const [t] = buildTiers("saas", [{ name: "pro-plus", price: 100 }]);
  assert.equal(t!.displayName, "Pro Plus");
  assert.equal(t!.currency, "usd");
  assert.equal(t!.interval, "month");
  assert.equal(t!.limit, null);
  assert.equal(t!.inventory, null);
  const [p] = buildTiers("store", [{ name: "mug", price: 100, inventory: 0 }]);
  assert.equal(p!.interval, null);
  assert.equal(
    (publicTier({ ...saas(), type: "store" }, p!) as { soldOut?: boolean }).soldOut,
    true,
  );
});

Deno.test("buildTiers() refuses duplicates and fields of the other project type", () => {
  assert.throws(
    () => buildTiers("saas", [{ name: "a", price: 0 }, { name: "a", price: 1 }]),
    ConflictError,
  );
  assert.throws(() => buildTiers("saas", [{ name: "a", price: 0, inventory: 3 }]), ValidationError);
  assert.throws(
    () => buildTiers("store", [{ name: "a", price: 0, interval: "year" }]),
    ValidationError,
  );
});

Deno.test("editTier() edits, renames and moves a tier keeping its id", () => {
  const p = saas();
  const id = p.tiers[1]!.id;
  const { project, tier } = editTier(p, "pro", { name: "plus", price: 2500, position: 0 });
  assert.equal(tier.id, id);
  assert.deepEqual(project.tiers.map((t) => t.name), ["plus", "free"]);
  assert.equal(project.tiers[0]!.price, 2500);
  assert.throws(() => editTier(p, "pro", { name: "free" }), ConflictError);
  assert.throws(() => editTier(p, "nope", {}), NotFoundError);
});

Deno.test("addTier() and removeTier() keep names unique and a SaaS project's last tier", () => {
  const p = saas();
  assert.throws(() => addTier(p, { name: "pro", price: 1 }), ConflictError);
  const one = removeTier(p, "pro").project;
  assert.throws(() => removeTier(one, "free"), ConflictError);
  // a store may run out of products
  const store = {
    ...p,
    type: "store" as const,
    tiers: buildTiers("store", [{ name: "mug", price: 9 }]),
  };
  assert.deepEqual(removeTier(store, "mug").project.tiers, []);
});

Deno.test("buildTiers(): a SaaS project starts with a tier, a store may start empty", () => {
  assert.throws(() => buildTiers("saas", []), ValidationError);
  assert.deepEqual(buildTiers("store", []), []);
});

Deno.test("tierOf() falls back to the free tier when a customer's tier was deleted", () => {
  const p = saas();
  const proId = p.tiers[1]!.id;
  assert.equal(tierOf(p, proId)!.name, "pro");
  const without = removeTier(p, "pro").project;
  assert.equal(tierOf(without, proId)!.name, "free");
  assert.equal(freeTier(p)!.name, "free");
});
