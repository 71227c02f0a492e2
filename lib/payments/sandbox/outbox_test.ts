import assert from "node:assert/strict";
import { SandboxOutboxStore } from "@/lib/kv/sandbox_outbox.ts";
import { SandboxOutbox } from "@/lib/payments/sandbox/outbox.ts";

const HOUR = 3_600_000;

async function setUp() {
  const kv = await Deno.openKv(":memory:");
  let now = Date.parse("2026-12-01T00:00:00Z");
  const sent: string[] = [];
  let accepting = false;
  const outbox = new SandboxOutbox(new SandboxOutboxStore(kv), () => now, (payload) => {
    sent.push(payload);
    return accepting ? Promise.resolve() : Promise.reject(new Error("refused"));
  });
  const kept = async () => {
    const out: { at: string; attempts: number }[] = [];
    for await (const e of kv.list<{ attempts: number }>({ prefix: ["sandbox_outbox"] })) {
      out.push({ at: e.key[1] as string, attempts: e.value.attempts });
    }
    return out;
  };
  return {
    kv,
    outbox,
    sent,
    kept,
    accept: (yes: boolean) => accepting = yes,
    advance: (ms: number) => now += ms,
  };
}

Deno.test("SandboxOutbox delivers at once when the route takes the event, and keeps nothing", async () => {
  const t = await setUp();
  t.accept(true);
  assert.equal(await t.outbox.deliver("evt_1", "{}"), true);
  assert.deepEqual(await t.kept(), []);
  assert.equal(t.sent.length, 1);
  t.kv.close();
});

Deno.test("SandboxOutbox sends a refused event again after 1 s, then doubling, until taken", async () => {
  const t = await setUp();
  assert.equal(await t.outbox.deliver("evt_1", '{"id":"evt_1"}'), false);
  assert.deepEqual(await t.kept(), [{ at: "2026-12-01T00:00:01.000Z", attempts: 1 }]);
  assert.equal(await t.outbox.redeliver(), 0, "not due yet");
  assert.equal(t.sent.length, 1);
  t.advance(1000);
  assert.equal(await t.outbox.redeliver(), 0, "refused again");
  assert.deepEqual(await t.kept(), [{ at: "2026-12-01T00:00:03.000Z", attempts: 2 }]);
  t.advance(2000);
  await t.outbox.redeliver();
  assert.deepEqual(await t.kept(), [{ at: "2026-12-01T00:00:07.000Z", attempts: 3 }]);
  t.accept(true);
  t.advance(4000);
  assert.equal(await t.outbox.redeliver(), 1);
  assert.deepEqual(await t.kept(), []);
  assert.deepEqual(t.sent, Array(4).fill('{"id":"evt_1"}'), "the same event each time");
  t.kv.close();
});

Deno.test("SandboxOutbox waits at most an hour between attempts and gives up after 3 days", async () => {
  const t = await setUp();
  await t.outbox.deliver("evt_1", "{}");
  let passes = 0;
  for (let waited = 0; waited < 3 * 24 * HOUR + HOUR; waited += HOUR) {
    t.advance(HOUR);
    await t.outbox.redeliver();
    passes++;
    const left = await t.kept();
    if (left.length === 0) break;
    const next = Date.parse(left[0]!.at);
    assert.ok(next - (Date.parse("2026-12-01T00:00:00Z") + waited + HOUR) <= HOUR, "≤ 1 h apart");
  }
  assert.deepEqual(await t.kept(), [], "given up");
  assert.ok(passes >= 72 && passes <= 73, `gave up after 3 days (${passes} hourly passes)`);
  t.kv.close();
});
