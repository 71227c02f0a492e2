/**
 * How the meter decides a batch, in arrival order, on the counts it holds: a call past its limit
 * is refused (nothing counted), a repeated idempotency key answers the first result (or a
 * conflict for another body), everything else is counted. Pure: no KV, no time of its own.
 */
import type { IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import { type LogLine, ROW_KEY_BYTES, tallyKeyBytes } from "@/lib/kv/usage.ts";
import type { Period } from "@/lib/period.ts";
import { type UsageView, usageView } from "@/lib/usage/view.ts";
import type { CountCell } from "@/lib/usage/held.ts";

export interface TrackRequest {
  pk: string;
  customerId: string;
  plan: string;
  period: Period;
  limit: number | null;
  /**
   * With overage: how far past the limit calls are accepted (null: no end); absent: the limit
   * is the end.
   */
  overageCap?: number | null | undefined;
  overage?: boolean | undefined;
  quantity: number;
  idempotency?: { key: string; fingerprint: string } | undefined;
}

export type TrackOutcome =
  | { kind: "counted"; usage: UsageView }
  | { kind: "limited"; usage: UsageView }
  | { kind: "replayed"; record: IdempotencyRecord }
  | { kind: "idempotency_conflict" };

export interface Pending {
  req: TrackRequest;
  /** customer \0 period start: the count's key within its project */
  ck: string;
  idemKey: Deno.KvKey | null;
  ik: string | null;
  /**
   * The count's cell in what the meter holds of the project, once found (lib/usage/held.ts): the
   * meter reads the count through it instead of looking the key up again while it lives.
   */
  cell?: CountCell | undefined;
  resolve: (o: TrackOutcome) => void;
  reject: (e: unknown) => void;
}

// Deno KV allows 100 checks per atomic operation: heads plus new idempotency keys.
const MAX_CHECKS = 100;
const MAX_BATCH = 512;

/**
 * The calls one commit takes, in queue order: at most 100 checks (one head per project, the new
 * idempotency keys) and 512 calls, each project's log row small enough for one fold commit to
 * take it whole (its tally keys' bytes, counted per call: an upper bound). The rest wait.
 */
export function takeBatch(queue: Pending[]): { batch: Pending[]; rest: Pending[] } {
  const checks = new Set<string>();
  const rowBytes = new Map<string, number>();
  const batch: Pending[] = [];
  const rest: Pending[] = [];
  for (const p of queue) {
    const pk = p.req.pk;
    const head = checks.has(pk) ? 0 : 1;
    const idem = p.ik && !checks.has(p.ik) ? 1 : 0;
    const bytes = (rowBytes.get(pk) ?? 0) + tallyKeyBytes(pk, p.req.customerId, p.req.period.start);
    const fits = checks.size + head + idem <= MAX_CHECKS && bytes <= ROW_KEY_BYTES;
    if (batch.length < MAX_BATCH && fits) {
      if (head) checks.add(pk);
      if (idem) checks.add(p.ik!);
      rowBytes.set(pk, bytes);
      batch.push(p);
    } else {
      rest.push(p);
    }
  }
  return { batch, rest };
}

/**
 * Whether counting the call on top of `count` would pass where its calls end: the limit, or with
 * overage the limit plus the cap (no end: unlimited, or overage without a cap).
 */
export function passesEnd(req: TrackRequest, count: number): boolean {
  const limit = req.limit;
  const end = limit === null || !req.overage
    ? limit
    : req.overageCap == null
    ? null
    : limit + req.overageCap;
  return end !== null && count + req.quantity > end;
}

/**
 * The outcome of each call, the lines to append per project (pk → count key → line), each
 * project's lines' cells (in the lines' order: the `cell` of the call that made the line, as
 * `held` left it) and the idempotency records to create. `held(p)` is the count held for a call's
 * key.
 */
export function decideBatch(
  batch: Pending[],
  o: {
    held: (p: Pending) => number;
    existing: Map<string, IdempotencyRecord | null>;
    now: number;
  },
) {
  const existing = o.existing;
  const outcomes: TrackOutcome[] = [];
  const claims = new Map<string, { key: Deno.KvKey; record: IdempotencyRecord }>();
  const lines = new Map<string, Map<string, LogLine>>();
  const cells = new Map<string, (CountCell | undefined)[]>();
  for (const p of batch) {
    const ik = p.ik;
    const id = p.req.idempotency;
    if (id && ik) {
      const prior = existing.get(ik) ?? claims.get(ik)?.record ?? null;
      if (prior) {
        outcomes.push(
          prior.fingerprint === id.fingerprint
            ? { kind: "replayed", record: prior }
            : { kind: "idempotency_conflict" },
        );
        continue;
      }
    }
    const { pk, quantity } = p.req;
    const perKey = lines.get(pk) ?? new Map<string, LogLine>();
    const line = perKey.get(p.ck);
    const count = o.held(p) + (line ? line[2] : 0);
    if (passesEnd(p.req, count)) {
      outcomes.push({ kind: "limited", usage: usageView(p.req, count) });
      continue;
    }
    if (line) line[2] += quantity;
    else {
      perKey.set(p.ck, [p.req.customerId, p.req.period.start, quantity]);
      const row = cells.get(pk);
      if (row) row.push(p.cell);
      else cells.set(pk, [p.cell]);
    }
    lines.set(pk, perKey);
    const usage = usageView(p.req, count + quantity);
    outcomes.push({ kind: "counted", usage });
    if (id && ik) {
      claims.set(ik, {
        key: p.idemKey!,
        record: {
          fingerprint: id.fingerprint,
          status: 200,
          body: { success: true, usage },
          createdAt: o.now,
        },
      });
    }
  }
  return { outcomes, lines, cells, claims };
}
