/**
 * `deno task meter-designs`: the usage meter's design alternatives (issue 13) measured against
 * each other in one run, on one fresh KV file, without HTTP: how many increments per second each
 * design acknowledges durably with 64 concurrent callers, 200 or 10 000 distinct customers, and
 * one or two meter instances sharing the store (two instances share this process's one thread,
 * so the two-instance rows show what contention costs, not what a second core would add).
 *
 * - per-customer rows: the meter before this one; each batch checks and sets one counter row per
 *   distinct customer (a read first for customers not held).
 * - log, one head (ours): one log row per batch under one checked head per project; a failed
 *   check reads the missed rows and retries; folded into tallies beside the commits.
 * - sharded heads (8): the log split by customer hash into 8 heads; a batch checks every shard
 *   it touches, a failed check reads those shards' missed rows.
 * - quota leases: each instance leases 100 units of a customer's quota at a time (a read, then a
 *   checked commit on the customer's lease row); calls inside a lease are logged without any
 *   check (one unchecked log row per batch per instance).
 *
 * Limits never bind here (each customer's limit is far away): the cost of deciding is the same
 * for all designs; what differs is what each commit carries and what a conflict costs. Writes
 * Deno KV directly on purpose (a measurement of the store, like tasks/kv_bound.ts).
 */
const SECONDS = Number(Deno.env.get("DESIGN_SECONDS") ?? 3);
const CALLERS = 64;
const PK = "pk_test_designs";
const LEASE = 100;
const SHARDS = 8;
const FOLD_AT = 256;

type Line = [customer: string, q: number];
interface Instance {
  commit(batch: Line[]): Promise<number>; // answers the retries it needed
}

const sums = (batch: Line[]) => {
  const m = new Map<string, number>();
  for (const [c, q] of batch) m.set(c, (m.get(c) ?? 0) + q);
  return m;
};
const aggregates = (op: Deno.AtomicOperation, n: number) =>
  op.sum(["stats", PK, "month"], BigInt(n)).sum(["stats", PK, "day"], BigInt(n));

/** Folds a log (prefix) into tallies, up to 800 mutations a commit, under a checked watermark. */
async function fold(kv: Deno.Kv, log: Deno.KvKey) {
  const mark = await kv.get<number>([...log, "folded"]);
  const tallies = new Map<string, number>();
  const rows: Deno.KvKey[] = [];
  let last = mark.value ?? 0;
  for await (
    const e of kv.list<Line[]>({ prefix: [...log, "row"], start: [...log, "row", last + 1] }, {
      limit: FOLD_AT,
    })
  ) {
    if (rows.length + tallies.size + e.value.length > 780) break;
    rows.push(e.key);
    last = e.key.at(-1) as number;
    for (const [c, q] of e.value) tallies.set(c, (tallies.get(c) ?? 0) + q);
  }
  let op = kv.atomic().check(mark).set([...log, "folded"], last);
  for (const [c, q] of tallies) op = op.sum(["tally", PK, c], BigInt(q));
  for (const k of rows) op = op.delete(k);
  await op.commit();
}

/** A log under checked heads; `shardOf` spreads customers over heads (one head: always 0). */
function logDesign(kv: Deno.Kv, shardOf: (c: string) => number): Instance {
  const heads = new Map<number, { seq: number; vs: string | null }>();
  let folding: Promise<void> | null = null;
  const log = (shard: number): Deno.KvKey => ["log", PK, shard];
  async function catchUp(shard: number) {
    const h = await kv.get<number>([...log(shard), "head"]);
    // the missed rows are read as a catch-up would, to apply them to the counts held
    const from = heads.get(shard)?.seq ?? 0;
    for await (
      const _ of kv.list({
        prefix: [...log(shard), "row"],
        start: [...log(shard), "row", from + 1],
      })
    ) { /* applied to the counts held */ }
    heads.set(shard, { seq: h.value ?? 0, vs: h.versionstamp });
  }
  return {
    async commit(batch) {
      const byShard = new Map<number, Line[]>();
      for (const [c, q] of sums(batch)) {
        const s = shardOf(c);
        byShard.set(s, [...(byShard.get(s) ?? []), [c, q]]);
      }
      for (const s of byShard.keys()) if (!heads.has(s)) await catchUp(s);
      for (let retries = 0;; retries++) {
        let op = aggregates(kv.atomic(), batch.length);
        for (const [s, lines] of byShard) {
          const h = heads.get(s)!;
          op = op.check({ key: [...log(s), "head"], versionstamp: h.vs })
            .set([...log(s), "head"], h.seq + 1).set([...log(s), "row", h.seq + 1], lines);
        }
        const res = await op.commit();
        if (res.ok) {
          for (const s of byShard.keys()) {
            const h = heads.get(s)!;
            heads.set(s, { seq: h.seq + 1, vs: res.versionstamp });
            if (h.seq % FOLD_AT === 0) folding ??= fold(kv, log(s)).finally(() => folding = null);
          }
          return retries;
        }
        for (const s of byShard.keys()) await catchUp(s);
      }
    },
  };
}

function perCustomerRows(kv: Deno.Kv): Instance {
  const held = new Map<string, { n: number; vs: string | null }>();
  async function read(customers: string[]) {
    for (let i = 0; i < customers.length; i += 10) {
      const part = customers.slice(i, i + 10);
      const got = await kv.getMany<number[]>(part.map((c) => ["counter", PK, c]));
      part.forEach((c, j) => held.set(c, { n: got[j]!.value ?? 0, vs: got[j]!.versionstamp }));
    }
  }
  return {
    async commit(batch) {
      const per = sums(batch);
      await read([...per.keys()].filter((c) => !held.has(c)));
      for (let retries = 0;; retries++) {
        let op = aggregates(kv.atomic(), batch.length);
        for (const [c, q] of per) {
          const h = held.get(c)!;
          op = op.check({ key: ["counter", PK, c], versionstamp: h.vs }).set(
            ["counter", PK, c],
            h.n + q,
          );
        }
        const res = await op.commit();
        if (res.ok) {
          for (const [c, q] of per) held.set(c, { n: held.get(c)!.n + q, vs: res.versionstamp });
          return retries;
        }
        await read([...per.keys()]);
      }
    },
  };
}

function quotaLeases(kv: Deno.Kv, instance: number): Instance {
  const left = new Map<string, number>();
  let seq = 0;
  let folding: Promise<void> | null = null;
  const log: Deno.KvKey = ["lease_log", PK, instance];
  return {
    async commit(batch) {
      const per = sums(batch);
      for (let retries = 0;; retries++) {
        const needed = [...per].filter(([c, q]) => (left.get(c) ?? 0) < q).map(([c]) => c);
        const leases: Deno.KvEntryMaybe<number>[] = [];
        for (let i = 0; i < needed.length; i += 10) {
          leases.push(
            ...await kv.getMany<number[]>(needed.slice(i, i + 10).map((c) => ["lease", PK, c])),
          );
        }
        let op = aggregates(kv.atomic(), batch.length).set([...log, "row", ++seq], [...per]);
        for (const l of leases) op = op.check(l).set(l.key, (l.value ?? 0) + LEASE);
        const res = await op.commit();
        if (res.ok) {
          for (const c of needed) left.set(c, (left.get(c) ?? 0) + LEASE);
          for (const [c, q] of per) left.set(c, left.get(c)! - q);
          if (seq % FOLD_AT === 0) folding ??= fold(kv, log).finally(() => folding = null);
          return retries;
        }
        seq--;
      }
    },
  };
}

/** Drives `instances` meters of one design with 64 callers for SECONDS; increments per second. */
async function run(
  make: (kv: Deno.Kv, i: number) => Instance,
  o: { customers: number; instances: number },
) {
  const dir = await Deno.makeTempDir({ prefix: "meter-designs-" });
  using kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  const meters = Array.from({ length: o.instances }, (_, i) => {
    const inst = make(kv, i);
    let queue: { line: Line; done: () => void }[] = [];
    let draining = false;
    let retries = 0;
    const drain = async () => {
      draining = true;
      while (queue.length) {
        const batch = queue.slice(0, 100);
        queue = queue.slice(100);
        retries += await inst.commit(batch.map((b) => b.line));
        for (const b of batch) b.done();
      }
      draining = false;
    };
    return {
      inc: (c: string) =>
        new Promise<void>((done) => {
          queue.push({ line: [c, 1], done });
          if (!draining) drain();
        }),
      retries: () => retries,
    };
  });
  let acked = 0;
  const end = performance.now() + SECONDS * 1000;
  let rnd = 7;
  const next = () => (rnd = (rnd * 1103515245 + 12345) % 2147483648) % o.customers;
  await Promise.all(Array.from({ length: CALLERS }, async (_, i) => {
    const meter = meters[i % meters.length]!;
    while (performance.now() < end) {
      await meter.inc(`cus_${next()}`);
      acked++;
    }
  }));
  await new Promise((r) => setTimeout(r, 200)); // let folds in flight finish before closing
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  return {
    perSecond: Math.round(acked / SECONDS),
    retries: meters.reduce((n, m) => n + m.retries(), 0),
  };
}

const hash = (c: string) => {
  let h = 0;
  for (let i = 0; i < c.length; i++) h = (h * 31 + c.charCodeAt(i)) | 0;
  return Math.abs(h) % SHARDS;
};
const designs: [string, (kv: Deno.Kv, i: number) => Instance][] = [
  ["per-customer rows", (kv) => perCustomerRows(kv)],
  ["log, one head (ours)", (kv) => logDesign(kv, () => 0)],
  [`sharded heads (${SHARDS})`, (kv) => logDesign(kv, hash)],
  [`quota leases (${LEASE} units)`, quotaLeases],
];

const enc = new TextEncoder();
const print = (m: string) => Deno.stdout.writeSync(enc.encode(m + "\n"));
print(
  `${SECONDS} s per cell, ${CALLERS} callers, one fresh KV file per cell; increments/s (retries)`,
);
print("");
print(
  "| design | 200 customers, 1 instance | 200, 2 instances | 10 000, 1 instance | 10 000, 2 instances |",
);
print("|---|---|---|---|---|");
for (const [name, make] of designs) {
  const cells: string[] = [];
  for (const customers of [200, 10_000]) {
    for (const instances of [1, 2]) {
      const r = await run(make, { customers, instances });
      cells.push(`${r.perSecond}${r.retries ? ` (${r.retries})` : ""}`);
    }
  }
  print(`| ${name} | ${cells.join(" | ")} |`);
}
