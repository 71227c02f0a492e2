/**
 * Background jobs: the sandbox clock, the Stripe reconcile, the sweep of stale store holds and
 * the purge of deleted projects.
 * Each runs through `Deno.cron` where it exists (Deno Deploy, or `--unstable-cron`) when its
 * period is a whole number of minutes, else on an interval; a run never overlaps the previous
 * one, and each run logs its duration.
 */
import type { App } from "@/server/app.ts";
import type { Logger } from "@/lib/logger.ts";
import { reconcileAll } from "@/lib/billing/reconcile.ts";
import { sweepReservations } from "@/lib/store/sweep.ts";
import { purgeDeletedProjects } from "@/lib/projects/lifecycle.ts";
import { startWebhooks } from "@/lib/outbound/deliver.ts";

export interface Job {
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
}

/** The jobs this app needs: the sandbox clock or the reconcile (Stripe), and the hold sweep. */
export function backgroundJobs(app: App): Job[] {
  const s = app.services;
  const jobs: Job[] = [];
  if (s.sandbox) {
    const sandbox = s.sandbox;
    jobs.push({
      name: "sandbox-clock",
      everyMs: s.config.sandboxTickMs,
      run: () => sandbox.tick(),
    });
  } else if (s.config.reconcileIntervalMinutes > 0) {
    jobs.push({
      name: "reconcile",
      everyMs: s.config.reconcileIntervalMinutes * 60_000,
      run: () => reconcileAll(s),
    });
  }
  jobs.push({ name: "sweep-holds", everyMs: 60_000, run: () => sweepReservations(s) });
  // outbound webhooks: fan out new events, start sending what is due (each endpoint's work goes
  // on beside the next passes: a slow receiver holds up no other endpoint)
  jobs.push({
    name: "webhooks",
    everyMs: 1000,
    run: async () => {
      const { fannedOut, started } = await startWebhooks(s);
      return { fannedOut, endpoints: started.length };
    },
  });
  // deleted projects past their 30 days of undo
  jobs.push({ name: "purge-projects", everyMs: 3_600_000, run: () => purgeDeletedProjects(s) });
  // each run's duration also goes to /metrics when it is on
  const metrics = app.metrics;
  return metrics
    ? jobs.map((j) => ({
      ...j,
      run: async () => {
        const started = performance.now();
        try {
          return await j.run();
        } finally {
          metrics.job(j.name, (performance.now() - started) / 1000);
        }
      },
    }))
    : jobs;
}

/** Runs `job` unless its previous run is still going; logs how long it took. */
export function guarded(job: Job, logger: Logger): () => Promise<void> {
  let running = false;
  return async () => {
    if (running) return;
    running = true;
    const started = performance.now();
    try {
      const result = await job.run();
      logger.debug("job done", {
        job: job.name,
        ms: Math.round(performance.now() - started),
        result: typeof result === "number" || typeof result === "object" ? result : undefined,
      });
    } catch (err) {
      logger.error("job failed", {
        job: job.name,
        ms: Math.round(performance.now() - started),
        error: String(err),
      });
    } finally {
      running = false;
    }
  };
}

type Cron = (name: string, schedule: string, handler: () => Promise<void>) => Promise<void>;

/** Starts the jobs; `stop()` clears the intervals (cron jobs end with the process). */
export function startJobs(jobs: Job[], logger: Logger): { stop(): void } {
  const cron = (Deno as unknown as { cron?: Cron }).cron;
  const timers: ReturnType<typeof setInterval>[] = [];
  for (const job of jobs) {
    const run = guarded(job, logger);
    const minutes = job.everyMs / 60_000;
    if (typeof cron === "function" && Number.isInteger(minutes) && minutes >= 1 && minutes < 60) {
      cron(job.name, `*/${minutes} * * * *`, run).catch((err) =>
        logger.error("cron failed", { job: job.name, error: String(err) })
      );
    } else if (job.everyMs > 0) {
      timers.push(setInterval(run, job.everyMs));
    }
  }
  return { stop: () => timers.forEach(clearInterval) };
}
