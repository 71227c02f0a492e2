/** Mounts the dashboard pages, one file per page. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { mountIndexPage } from "@/routes/dashboard/index.tsx";
import { mountNewPage } from "@/routes/dashboard/new.tsx";
import { mountOverviewPage } from "@/routes/dashboard/overview.tsx";
import { mountTiersPage } from "@/routes/dashboard/tiers.tsx";
import { mountCustomersPage } from "@/routes/dashboard/customers.tsx";
import { mountCustomerPage } from "@/routes/dashboard/customer.tsx";
import { mountEventsPage } from "@/routes/dashboard/events.tsx";
import { mountKeysPage } from "@/routes/dashboard/keys.tsx";
import { mountLivePage } from "@/routes/dashboard/live.tsx";
import { mountIntegratePage } from "@/routes/dashboard/integrate.tsx";
import { mountTokensPage } from "@/routes/dashboard/tokens.tsx";
import { mountSettingsPage } from "@/routes/dashboard/settings.tsx";
import { mountOrdersPages } from "@/routes/dashboard/orders.tsx";
import { mountAccountPage } from "@/routes/dashboard/account.tsx";
import { mountCouponsPage } from "@/routes/dashboard/coupons.tsx";
import { mountWebhooksPage } from "@/routes/dashboard/webhooks.tsx";

export function mountDashboard(app: OpenAPIHono<AppEnv>) {
  mountIndexPage(app);
  mountNewPage(app);
  mountOverviewPage(app);
  mountTiersPage(app);
  mountCustomersPage(app);
  mountOrdersPages(app);
  mountCustomerPage(app);
  mountEventsPage(app);
  mountKeysPage(app);
  mountLivePage(app);
  mountIntegratePage(app);
  mountTokensPage(app);
  mountSettingsPage(app);
  mountAccountPage(app);
  mountCouponsPage(app);
  mountWebhooksPage(app);
}
