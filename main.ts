/** Entry point (also the Deno Deploy entry): config → KV → app → Deno.serve. */
import { ConfigError, loadConfig } from "@/lib/config.ts";
import { loadAppSecret, openLocalKv, prepareDataDir } from "@/lib/startup.ts";
import { createApp } from "@/server/app.ts";
import { createLogger } from "@/lib/logger.ts";
import { backgroundJobs, startJobs } from "@/server/jobs.ts";
import { stopWebhooks } from "@/lib/outbound/deliver.ts";

/** Config, data directory, KV and app secret: a problem is one line naming it, then exit 1. */
async function start() {
  const config = loadConfig(Deno.env.toObject());
  const onDeploy = Deno.env.get("DENO_DEPLOYMENT_ID") !== undefined;
  if (onDeploy && !config.appSecret) throw new ConfigError("APP_SECRET must be set on Deno Deploy");
  if (!onDeploy) await prepareDataDir(config.dataDir);
  // KV_URL: a remote store (Deno Deploy KV, or a self-hosted KV Connect server) that several
  // instances share; DENO_KV_ACCESS_TOKEN authenticates (read by Deno itself)
  const kv = config.kvUrl
    ? await Deno.openKv(config.kvUrl)
    : onDeploy
    ? await Deno.openKv()
    : await openLocalKv(config.dataDir);
  const secret = await loadAppSecret(config.dataDir, config.appSecret);
  return { config: { ...config, appSecret: secret }, kv };
}

if (import.meta.main) {
  let started;
  try {
    started = await start();
  } catch (err) {
    // deno-lint-ignore no-console
    console.error(
      err instanceof ConfigError ? err.message : `Start-up failed: ${String(err).split("\n")[0]}`,
    );
    Deno.exit(1);
  }
  const { config, kv } = started;
  const logger = createLogger(config.logLevel);
  const app = await createApp({ config, kv, logger });
  logger.info(
    app.services.sandbox
      ? "payments: offline sandbox (set STRIPE_SECRET_KEY_TEST for Stripe)"
      : "payments: Stripe",
  );
  const jobs = startJobs(backgroundJobs(app), logger);
  if (!config.baseUrl) logger.info("BASE_URL not set: URLs are derived from each request's origin");
  const server = Deno.serve({
    port: config.port,
    onListen: ({ hostname, port }) =>
      logger.info("dream-api listening", { url: `http://${hostname}:${port}` }),
  }, app.fetch);
  // On SIGTERM/SIGINT: stop accepting, let in-flight requests (and their usage commits) finish.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down");
    jobs.stop();
    // webhook attempts under way are recorded (at most one 10 s attempt per endpoint)
    await Promise.all([server.shutdown(), stopWebhooks(app.services)]);
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
