/** Time parts of keys: ISO strings, so a prefix scan of a series is in time order. */

/** "2026-11" of an instant: the key of monthly aggregates. */
export const monthKey = (now: number) => new Date(now).toISOString().slice(0, 7);
/** "2026-11-24" of an instant: the key of daily aggregates. */
export const dayKey = (now: number) => new Date(now).toISOString().slice(0, 10);
