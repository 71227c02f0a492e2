/** Billing periods: pure arithmetic, unit-tested without KV. */

export interface Period {
  start: string;
  end: string;
}

let lastMonth: { from: number; to: number; period: Period } | null = null;

/** The calendar month (UTC) containing `now` (the last answer is reused while it still applies). */
export function calendarMonth(now: number): Period {
  if (lastMonth && now >= lastMonth.from && now < lastMonth.to) return lastMonth.period;
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const period = Object.freeze({
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
  });
  lastMonth = { from: start, to: end, period };
  return period;
}

/** Adds `n` months (or years) to an ISO instant, clamping the day like Stripe (Jan 31 → Feb 28). */
export function addInterval(iso: string, interval: "month" | "year", n = 1): string {
  const d = new Date(iso);
  const months = interval === "year" ? 12 * n : n;
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      y,
      m,
      day,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  ).toISOString();
}

/**
 * The period usage is counted in. A subscription's own period applies while `now` is inside
 * it; past its end (a renewal event not yet seen) the period rolls forward by its interval so
 * counting never stalls; with no subscription it is the calendar month.
 */
export function currentPeriod(
  now: number,
  sub: { currentPeriodStart: string; currentPeriodEnd: string; interval?: "month" | "year" } | null,
): Period {
  if (!sub) return calendarMonth(now);
  let start = sub.currentPeriodStart;
  let end = sub.currentPeriodEnd;
  if (now < Date.parse(start)) return calendarMonth(now);
  const interval = sub.interval ?? "month";
  for (let i = 0; i < 1000 && now >= Date.parse(end); i++) {
    start = end;
    end = addInterval(end, interval);
  }
  return { start, end };
}

export { dayKey, monthKey } from "@/lib/kv/time_keys.ts";

/** A day as people write it: "2 Jan 2027" (UTC). */
export function dayInWords(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}
