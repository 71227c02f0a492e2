/**
 * How a payment provider's failures are told apart: the provider down or refusing (as the API
 * answers them), and an object it has no longer.
 */
import { AppError, NotFoundError } from "@/lib/errors.ts";
import type { AccountRef, PaymentProvider, StripeSubscription } from "@/lib/payments/provider.ts";

/**
 * A payment provider's failure as the API answers it, or null when `err` is not one (the Stripe
 * SDK's errors, told by their `rawType`; the sandbox throws our own errors). The provider down,
 * unreachable or throttling us: 503 to retry shortly. A refusal (an account not enabled for
 * card payments, a price archived at the provider): 502 `payment_provider_error` with the
 * provider's reason, which the developer can act on. Its own request lock (409): a conflict to
 * retry. Our key refused (401) is our configuration, an internal error: null.
 */
export function providerFailure(err: unknown): AppError | null {
  const e = err as {
    rawType?: unknown;
    type?: unknown;
    statusCode?: unknown;
    code?: unknown;
    param?: unknown;
    message?: unknown;
  } | null;
  const kind = typeof e?.type === "string" && e.type.startsWith("Stripe") ? e.type : null;
  // a webhook's signature is the caller's (the route answers it 400), not the provider's API
  if (!kind || kind === "StripeSignatureVerificationError") return null;
  const status = typeof e!.statusCode === "number" ? e!.statusCode : null;
  const reason = String(e!.message ?? "").slice(0, 500);
  if (status === null || status >= 500 || status === 429 || kind === "StripeConnectionError") {
    return new AppError(
      "service_unavailable",
      "The payment provider is not answering; try again shortly",
      { headers: { "Retry-After": "2" } },
    );
  }
  if (status === 401) return null;
  if (status === 409) {
    return new AppError("conflict", `The payment provider is busy with this request: ${reason}`);
  }
  return new AppError("payment_provider_error", `The payment provider refused: ${reason}`, {
    details: {
      provider: {
        type: typeof e!.rawType === "string" ? e!.rawType : null,
        code: typeof e!.code === "string" ? e!.code : null,
        param: typeof e!.param === "string" ? e!.param : null,
      },
    },
  });
}

/** Whether a call failed because the provider customer it named is gone there. */
export function isMissingCustomer(err: unknown): boolean {
  const e = err as { code?: unknown; param?: unknown } | null;
  return e?.code === "resource_missing" && e.param === "customer";
}

/** Whether a provider call failed because it has no such object (Stripe's 404, the sandbox's). */
export function isMissing(err: unknown): boolean {
  return err instanceof NotFoundError || (err as { statusCode?: number }).statusCode === 404;
}

/**
 * Runs a provider call on an object: true when it did, false when the provider has no such object
 * (deleted there); its other failures are thrown.
 */
export async function foundAt(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** A subscription as the provider has it now; null when it has none by that id. */
export async function currentSubscription(
  payments: PaymentProvider,
  acct: AccountRef,
  id: string,
): Promise<StripeSubscription | null> {
  try {
    return await payments.retrieveSubscription(acct, id);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
