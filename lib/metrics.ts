/**
 * Prometheus metrics (`GET /metrics`, behind METRICS_TOKEN), with the maintained `prom-client`
 * package: requests and their latency by route and status, the meter's batch sizes and commit
 * times, cache hit ratios, the webhook outbox's depth, the reservation sweep's lag and job
 * durations. Nothing is recorded when METRICS_TOKEN is unset (the hot path pays nothing).
 */
import client from "prom-client";
import type { Services } from "@/lib/services.ts";
import { outboxDepth, reservationSweepLag } from "@/lib/kv/ops_stats.ts";

export interface Metrics {
  registry: client.Registry;
  /** Records one answered request. */
  request(o: { route: string; method: string; status: number; seconds: number }): void;
  job(name: string, seconds: number): void;
}

// a label per method any client can make up would be a series per request: the standard ones,
// and "other"
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(s: Services): Metrics {
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: "dream_http_requests_total",
    help: "HTTP requests answered, by route pattern, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: "dream_http_request_duration_seconds",
    help: "Time to answer, by route pattern and method",
    labelNames: ["route", "method"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batch = new client.Histogram({
    name: "dream_meter_batch_size",
    help: "Usage calls decided per meter commit",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const commit = new client.Histogram({
    name: "dream_meter_commit_seconds",
    help: "Time of one meter batch commit (durable)",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  s.meter.onBatch = (size, ms) => {
    batch.observe(size);
    commit.observe(ms / 1000);
  };
  const fold = new client.Histogram({
    name: "dream_meter_fold_seconds",
    help: "Time of one fold of the usage log into the counts (its rows read, committed, deleted)",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const folded = new client.Counter({
    name: "dream_meter_folded_rows_total",
    help: "Usage-log rows this instance's folds moved the fold watermark past",
    registers: [registry],
  });
  s.meter.onFold = (rows, ms) => {
    fold.observe(ms / 1000);
    folded.inc(rows);
  };
  new client.Gauge({
    name: "dream_meter_unfolded_rows",
    help: "Usage-log rows this instance holds that are not folded yet (the fold's lag)",
    registers: [registry],
    collect() {
      this.set(s.meter.unfoldedRows());
    },
  });
  new client.Gauge({
    name: "dream_cache_hit_ratio",
    help: "Share of lookups answered from this instance's caches, by cache",
    labelNames: ["cache"],
    registers: [registry],
    collect() {
      for (const [name, c] of Object.entries(s.caches)) {
        const total = c.hits + c.misses;
        this.set({ cache: name }, total === 0 ? 0 : c.hits / total);
      }
    },
  });
  new client.Gauge({
    name: "dream_webhook_outbox_depth",
    help: "Outbound webhook events not fanned out yet, and deliveries waiting (counted to 10000)",
    labelNames: ["kind"],
    registers: [registry],
    async collect() {
      const d = await outboxDepth(s.kv);
      this.set({ kind: "events" }, d.events);
      this.set({ kind: "deliveries" }, d.deliveries);
    },
  });
  new client.Gauge({
    name: "dream_reservation_sweep_lag_seconds",
    help: "How long the oldest store hold has been past its expiry without being released",
    registers: [registry],
    async collect() {
      this.set((await reservationSweepLag(s.kv, s.clock.now())) / 1000);
    },
  });
  const jobs = new client.Histogram({
    name: "dream_job_duration_seconds",
    help: "Background job run time, by job",
    labelNames: ["job"],
    buckets: [0.001, 0.01, 0.1, 1, 10, 60],
    registers: [registry],
  });
  return {
    registry,
    request: (o) => {
      const status = String(o.status);
      const method = METHODS.has(o.method) ? o.method : "other";
      requests.inc({ route: o.route, method, status });
      latency.observe({ route: o.route, method }, o.seconds);
    },
    job: (name, seconds) => jobs.observe({ job: name }, seconds),
  };
}
