/** Mounts every route, in URL order. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { mountPages } from "@/routes/pages.tsx";
import { mountCustomerRoutes } from "@/routes/api/customers.ts";
import { mountDashboardRoutes } from "@/routes/api/dashboard.ts";
import { mountTierRoutes } from "@/routes/api/tiers.ts";
import { mountUsageRoutes } from "@/routes/api/usage.ts";
import { mountHealth } from "@/routes/health.ts";
import { mountAuthRoutes } from "@/routes/v1/auth.ts";
import { mountProjectRoutes } from "@/routes/v1/projects.ts";
import { mountTokenRoutes } from "@/routes/v1/tokens.ts";
import { mountBillingRoutes } from "@/routes/api/billing.ts";
import { mountConnectRoutes } from "@/routes/v1/connect.ts";
import { mountSandboxRoutes } from "@/routes/sandbox.tsx";
import { mountWebhookRoutes } from "@/routes/webhooks/stripe.ts";
import { mountStoreRoutes } from "@/routes/api/store.ts";
import { mountAuthPages } from "@/routes/auth_pages.tsx";
import { mountDashboard } from "@/routes/dashboard/mod.ts";
import { mountAssetRoutes } from "@/routes/api/assets.ts";
import { mountAssetUploadRoutes } from "@/routes/v1/assets.ts";
import { mountApiOrderRoutes } from "@/routes/api/orders.ts";
import { mountOrderRoutes } from "@/routes/v1/orders.ts";
import { mountDeveloperCustomerRoutes } from "@/routes/v1/customers.ts";

export function mountRoutes(app: OpenAPIHono<AppEnv>) {
  mountPages(app);
  mountAuthPages(app);
  mountDashboard(app);
  mountAssetRoutes(app);
  mountBillingRoutes(app);
  mountStoreRoutes(app);
  mountApiOrderRoutes(app);
  mountCustomerRoutes(app);
  mountDashboardRoutes(app);
  mountTierRoutes(app);
  mountUsageRoutes(app);
  mountHealth(app);
  mountSandboxRoutes(app);
  mountAssetUploadRoutes(app);
  mountAuthRoutes(app);
  mountConnectRoutes(app);
  mountProjectRoutes(app);
  mountOrderRoutes(app);
  mountDeveloperCustomerRoutes(app);
  mountTokenRoutes(app);
  mountWebhookRoutes(app);
}
