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

export type AppEnv = {
  Variables: {
    services: Services;
    requestId: string;
    api: ApiCaller;
    developer: Developer;
    rawBody: string;
  };
};
