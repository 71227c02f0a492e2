import assert from "node:assert/strict";
import { addInterval, calendarMonth, currentPeriod, dayKey, monthKey } from "@/lib/period.ts";

Deno.test("calendarMonth() spans the UTC month containing the instant", () => {
  assert.deepEqual(calendarMonth(Date.parse("2026-11-24T07:00:00Z")), {
    start: "2026-11-01T00:00:00.000Z",
    end: "2026-12-01T00:00:00.000Z",
  });
  assert.deepEqual(calendarMonth(Date.parse("2026-12-31T23:59:59.999Z")), {
    start: "2026-12-01T00:00:00.000Z",
    end: "2027-01-01T00:00:00.000Z",
  });
});

Deno.test("addInterval() clamps the day of month like Stripe", () => {
  assert.equal(addInterval("2026-01-31T10:00:00.000Z", "month"), "2026-02-28T10:00:00.000Z");
  assert.equal(addInterval("2028-02-29T00:00:00.000Z", "year"), "2029-02-28T00:00:00.000Z");
  assert.equal(addInterval("2026-11-15T00:00:00.000Z", "month", 2), "2027-01-15T00:00:00.000Z");
});

Deno.test("currentPeriod() follows a subscription and rolls forward past its end", () => {
  const sub = {
    currentPeriodStart: "2026-11-10T00:00:00.000Z",
    currentPeriodEnd: "2026-12-10T00:00:00.000Z",
  };
  assert.deepEqual(currentPeriod(Date.parse("2026-11-24T00:00:00Z"), sub), {
    start: sub.currentPeriodStart,
    end: sub.currentPeriodEnd,
  });
  assert.deepEqual(currentPeriod(Date.parse("2027-01-11T00:00:00Z"), sub), {
    start: "2027-01-10T00:00:00.000Z",
    end: "2027-02-10T00:00:00.000Z",
  });
  assert.deepEqual(
    currentPeriod(Date.parse("2026-11-24T00:00:00Z"), null),
    calendarMonth(Date.parse("2026-11-24T00:00:00Z")),
  );
});

Deno.test("monthKey() and dayKey() are ISO prefixes", () => {
  const t = Date.parse("2026-03-05T12:00:00Z");
  assert.equal(monthKey(t), "2026-03");
  assert.equal(dayKey(t), "2026-03-05");
  // the last day's keys are reused: the next instant, the day's last millisecond, the next day
  assert.equal(dayKey(t + 1), "2026-03-05");
  assert.equal(dayKey(Date.parse("2026-03-31T23:59:59.999Z")), "2026-03-31");
  assert.equal(monthKey(Date.parse("2026-04-01T00:00:00Z")), "2026-04");
  assert.equal(dayKey(Date.parse("1969-12-31T23:00:00Z")), "1969-12-31");
  assert.throws(() => dayKey(NaN), RangeError);
});
