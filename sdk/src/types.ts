/** The objects the dream-api server answers, as the SDK types them (checked against /openapi.json in tests). */
export interface Usage {
  /** The customer. */
  userId: string;
  count: number;
  /** Equal to `count` (the original dream-api SDK's name). */
  usageCount: number;
  limit: number | null;
  remaining: number | null;
  /** Calls past the limit this period, billed at period end (tiers with overage; else 0). */
  overage: number;
  plan: string;
  periodStart: string;
  periodEnd: string;
}

export interface Subscription {
  id: string;
  tier: string | null;
  status: string;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
}

export interface Customer {
  id: string;
  email: string | null;
  name: string | null;
  firstName: string | null;
  lastName: string | null;
  plan: string | null;
  metadata: Record<string, string>;
  createdAt: string;
  subscription: Subscription | null;
  usage: Usage;
}

export interface CustomerInput {
  id?: string;
  email?: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  /** Accepted and ignored: customers don't sign in to the server, so it is never stored. */
  password?: string;
  plan?: string;
  metadata?: Record<string, string>;
}

/** Edits of a customer; `plan` a free tier only; `null` clears a field. */
export interface CustomerPatch {
  email?: string | null;
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  plan?: string;
  metadata?: Record<string, string>;
}

export interface Tier {
  name: string;
  displayName: string;
  price: number;
  currency: string;
  interval?: "month" | "year" | null;
  limit?: number | null;
  /** SaaS: free trial days a checkout starts with. */
  trialDays?: number;
  /** SaaS: calls past the limit billed `unitAmount` per `per`, up to `cap` calls. */
  overage?: { unitAmount: number; per: number; cap?: number | null } | null;
  inventory?: number | null;
  soldOut?: boolean;
  features: string[];
  popular: boolean;
  description: string | null;
  imageUrl: string | null;
  priceId: string | null;
  productId: string | null;
  /** Hidden from pricing pages and new checkouts; its subscribers stay on it. */
  archived: boolean;
}

export interface Product {
  id: string;
  name: string;
  displayName: string;
  description: string | null;
  price: number;
  currency: string;
  imageUrl: string | null;
  inventory: number | null;
  soldOut: boolean;
  priceId: string | null;
  productId: string | null;
}

export interface CartItem {
  priceId?: string;
  productId?: string;
  quantity: number;
}

export interface CartInput {
  email?: string;
  /** The buyer's name, kept with the order. */
  name?: string;
  items: CartItem[];
  /** Required from a server; in a browser defaults to `<page origin>/cart?success=true`. */
  successUrl?: string;
  /** Required from a server; in a browser defaults to `<page origin>/cart?canceled=true`. */
  cancelUrl?: string;
  /** A promotion code of the store (422 when unknown, expired or used up). */
  promotionCode?: string;
}

export interface CheckoutInput {
  tier: string;
  /** Required from a server; in a browser defaults to `<page origin>/dashboard?success=true`. */
  successUrl?: string;
  /** Required from a server; in a browser defaults to `<page origin>/dashboard?canceled=true`. */
  cancelUrl?: string;
  /** A promotion code of the project (422 when unknown, expired or used up). */
  promotionCode?: string;
}

export interface TrackResult {
  success: true;
  usage: Usage;
}

export interface CheckoutResult {
  url: string;
  sessionId?: string;
  switched: boolean;
}

export interface CartResult {
  url: string;
  sessionId: string;
  reservationId: string;
  expiresAt: string;
}

export type Dashboard =
  | {
    type: "saas";
    activeSubscriptions: number;
    canceling: number;
    mrr: number;
    usageThisPeriod: number;
    customers: number;
    currency: string;
  }
  | {
    type: "store";
    sales: number;
    revenue: number;
    inStock: number;
    lowStock: number;
    soldOut: number;
    currency: string;
  };

// ---- client ----

/** The developer's totals over all projects in the key's mode (amounts in cents). */
export interface DashboardTotals {
  mode: "test" | "live";
  projects: number;
  customers: number;
  activeSubscriptions: number;
  mrr: number;
  sales: number;
  revenue: number;
  /** null when the projects use more than one currency (see `byCurrency`). */
  currency: string | null;
  byCurrency: Record<string, { mrr: number; revenue: number }>;
}
