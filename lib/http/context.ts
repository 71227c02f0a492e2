/** Hono environment types shared by middleware and routes. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Developer } from "@/lib/kv/developers.ts";

export interface ApiCaller {
  project: Project;
  /** How the caller proved itself. */
  via: "secret" | "publishable" | "customer_token";
  /** The customer acting (from the customer token), when any. */
  tokenCustomerId: string | null;
}

/** What `Deno.serve` tells about the connection (absent when the app is called in-process). */
export interface ConnInfo {
  remoteAddr?: { hostname?: string };
}

export type AppEnv = {
  Bindings: ConnInfo;
  Variables: {
    services: Services;
    requestId: string;
    api: ApiCaller;
    developer: Developer;
    /**
     * Who acts, as the audit log names them: on developer-API calls `developer plt_…` (session)
     * or `token tok_…`; on customer-API calls with a secret key `secret key sk_test_ab12…`.
     */
    actor: string;
    /** Origins one page's forms may end up at, besides this server and the provider. */
    formTargets: string[];
    /**
     * Set on a call the hot path handed over after taking its rate-limit tokens (`rateTaken`,
     * lib/http/middleware/api_auth.ts): the full app does not take them again.
     */
    rateTaken: boolean;
  };
};
