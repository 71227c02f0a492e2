/** Entry point (also the Deno Deploy entry): config → KV → app → Deno.serve. */
import { loadConfig } from "@/lib/config.ts";
import { createApp } from "@/lib/app.ts";
import { createLogger } from "@/lib/logger.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { reconcileAll } from "@/lib/billing/reconcile.ts";
import { sweepReservations } from "@/lib/store/cart.ts";

/** The app secret: APP_SECRET, else a random one kept in DATA_DIR/app_secret (mode 0600). */
async function appSecret(dataDir: string, configured: string | null): Promise<string> {
  if (configured) return configured;
  const path = `${dataDir}/app_secret`;
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    const secret = randomBase62(48);
    await Deno.writeTextFile(path, secret, { mode: 0o600, createNew: true });
    return secret;
  }
}

if (import.meta.main) {
  let config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (err) {
    // deno-lint-ignore no-console
    console.error(err instanceof Error ? err.message : err);
    Deno.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const onDeploy = Deno.env.get("DENO_DEPLOYMENT_ID") !== undefined;
  if (!onDeploy) await Deno.mkdir(config.dataDir, { recursive: true });
  const kv = await Deno.openKv(onDeploy ? undefined : `${config.dataDir}/kv.sqlite3`);
  const secret = onDeploy && !config.appSecret
    ? (() => {
      throw new Error("APP_SECRET must be set on Deno Deploy");
    })()
    : await appSecret(config.dataDir, config.appSecret);
  const app = await createApp({ config: { ...config, appSecret: secret }, kv, logger });
  if (app.services.sandbox) {
    logger.info("payments: offline sandbox (set STRIPE_SECRET_KEY_TEST for Stripe)");
    const sandbox = app.services.sandbox;
    setInterval(() => {
      sandbox.tick().catch((err) => logger.error("sandbox tick failed", { error: String(err) }));
    }, config.sandboxTickMs);
  } else {
    logger.info("payments: Stripe");
    if (config.reconcileIntervalMinutes > 0) {
      setInterval(() => {
        reconcileAll(app.services)
          .then((out) => logger.info("reconciled subscriptions", out))
          .catch((err) => logger.error("reconcile failed", { error: String(err) }));
      }, config.reconcileIntervalMinutes * 60_000);
    }
  }
  setInterval(() => {
    sweepReservations(app.services)
      .then((n) => n && logger.info("released stale stock reservations", { n }))
      .catch((err) => logger.error("reservation sweep failed", { error: String(err) }));
  }, 60_000);
  if (!config.baseUrl) logger.info("BASE_URL not set: URLs are derived from each request's origin");
  const server = Deno.serve({
    port: config.port,
    onListen: ({ hostname, port }) =>
      logger.info("dream-api listening", { url: `http://${hostname}:${port}` }),
  }, app.fetch);
  // On SIGTERM/SIGINT: stop accepting, let in-flight requests (and their usage commits) finish.
  const stop = async () => {
    logger.info("shutting down");
    await server.shutdown();
    kv.close();
    Deno.exit(0);
  };
  try {
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
  } catch {
    // signals are not available on every platform (Deno Deploy)
  }
}
