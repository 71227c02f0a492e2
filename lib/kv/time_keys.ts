/** Time parts of keys: ISO strings, so a prefix scan of a series is in time order. */

const DAY_MS = 86_400_000;
/** The keys of the last day asked for (every usage commit asks; the day rarely changes). */
let last = { day: NaN, dayKey: "", monthKey: "" };
function keysOf(now: number) {
  const day = Math.floor(now / DAY_MS);
  if (day !== last.day) {
    const iso = new Date(day * DAY_MS).toISOString();
    last = { day, dayKey: iso.slice(0, 10), monthKey: iso.slice(0, 7) };
  }
  return last;
}

/** "2026-11" of an instant: the key of monthly aggregates. */
export const monthKey = (now: number) => keysOf(now).monthKey;
/** "2026-11-24" of an instant: the key of daily aggregates. */
export const dayKey = (now: number) => keysOf(now).dayKey;
/** An instant as the ISO string a key sorts it by ("2026-11-24T12:00:00.000Z"). */
export const instantKey = (ms: number) => new Date(ms).toISOString();
