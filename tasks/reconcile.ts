/**
 * `deno task reconcile`: compares local subscription state with the payment provider for every
 * SaaS project and repairs what missed events left behind. Locally the KV file belongs to one
 * process, so run it while the server is stopped (the server also reconciles every
 * RECONCILE_INTERVAL_MINUTES); on Deno Deploy it shares the managed KV.
 */
import { loadConfig } from "@/lib/config.ts";
import { createApp } from "@/server/app.ts";
import { createLogger } from "@/lib/logger.ts";
import { reconcileAll } from "@/lib/billing/reconcile.ts";

const config = loadConfig(Deno.env.toObject());
const logger = createLogger(config.logLevel);
const kv = await Deno.openKv(
  Deno.env.get("DENO_DEPLOYMENT_ID") ? undefined : `${config.dataDir}/kv.sqlite3`,
);
const secret = config.appSecret ??
  (await Deno.readTextFile(`${config.dataDir}/app_secret`).catch(() => "")).trim();
const app = await createApp({
  config: { ...config, appSecret: secret || "reconcile-without-secret-0123456789abcdef" },
  kv,
  logger,
});
const out = await reconcileAll(app.services);
logger.info("reconciled", out);
kv.close();
if (out.failed.length) Deno.exit(1);
