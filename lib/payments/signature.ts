/** Webhook signature checks shared by both providers (npm:stripe's verifier, subtle crypto). */
import Stripe from "stripe";
import type { StripeEvent } from "@/lib/payments/provider.ts";

export const SIGNATURE_TOLERANCE_SECONDS = 300;
export const cryptoProvider = Stripe.createSubtleCryptoProvider();

export class SignatureError extends Error {}

/**
 * Verifies `Stripe-Signature` against any of `secrets` with `constructEventAsync`, refusing
 * timestamps older than the tolerance (the SDK) and further in the future than it (checked
 * here: the SDK accepts those).
 */
export async function verifySignedEvent(
  stripe: Stripe,
  o: { raw: string; header: string; secrets: string[]; nowSeconds: number },
): Promise<StripeEvent> {
  const { raw, header, secrets, nowSeconds } = o;
  const t = Number(/(?:^|,)t=(\d+)/.exec(header)?.[1]);
  if (!Number.isFinite(t)) throw new SignatureError("Stripe-Signature has no timestamp");
  if (t > nowSeconds + SIGNATURE_TOLERANCE_SECONDS) {
    throw new SignatureError("Stripe-Signature timestamp is in the future");
  }
  let last: unknown = null;
  for (const secret of secrets) {
    try {
      const ev = await stripe.webhooks.constructEventAsync(
        raw,
        header,
        secret,
        SIGNATURE_TOLERANCE_SECONDS,
        cryptoProvider,
        nowSeconds * 1000, // the SDK's receivedAt is in milliseconds
      );
      return ev as unknown as StripeEvent;
    } catch (err) {
      last = err;
    }
  }
  throw new SignatureError(last instanceof Error ? last.message : "signature mismatch");
}

/** Signs a payload like Stripe does (the sandbox and the tests' Stripe double use this). */
export function signPayload(
  stripe: Stripe,
  o: { payload: string; secret: string; timestamp: number },
) {
  const { payload, secret, timestamp } = o;
  return stripe.webhooks.generateTestHeaderStringAsync(
    {
      payload,
      secret,
      timestamp,
      cryptoProvider,
    } as Parameters<typeof stripe.webhooks.generateTestHeaderStringAsync>[0],
  );
}
