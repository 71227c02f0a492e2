import assert from "node:assert/strict";
import { ask } from "./CustomerActions.tsx";

Deno.test("customer actions: ending a plan says what its overage this period becomes", () => {
  assert.equal(
    ask("cancel_now", 13),
    "Cancel now? The plan ends at once, with no refund or proration; the 13 calls past the limit this period are billed on a final invoice. This can't be undone.",
  );
  assert.match(
    ask("cancel_now", 1),
    /; the 1 call past the limit this period is billed on a final/,
  );
  assert.equal(
    ask("delete", 2),
    "Delete this customer's data? A paying subscription is canceled first (the 2 calls past the limit this period are not billed). This can't be undone.",
  );
  assert.doesNotMatch(ask("cancel_now", 0) + ask("delete", 0), /past the limit/);
});
