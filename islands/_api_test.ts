import assert from "node:assert/strict";
import { ApiError, fieldErrors, formMessage, humanize } from "./_api.ts";

Deno.test("humanize() says zod's wording the way a form does", () => {
  assert.equal(humanize("Too small: expected string to have >=1 characters"), "Required");
  assert.equal(humanize("Too small: expected number to be >=0"), "At least 0");
  assert.equal(
    humanize("Too big: expected string to have <=100 characters"),
    "At most 100 characters",
  );
  assert.equal(humanize("Invalid input: expected int, received number"), "A whole number");
  assert.equal(humanize("must be lowercase"), "Must be lowercase");
});

Deno.test("fieldErrors() and formMessage() turn a 422 into messages next to fields", () => {
  const err = new ApiError(422, "validation_failed", "Invalid tiers.1.name: Too small …", [
    { field: "tiers.1.name", message: "Too small: expected string to have >=1 characters" },
  ]);
  assert.deepEqual(fieldErrors(err), { "tiers.1.name": "Required" });
  assert.doesNotMatch(formMessage(err), /tiers\.1/);
  assert.equal(formMessage(new Error("network down")), "network down");
});
