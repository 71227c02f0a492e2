/**
 * Where the payment provider sends the browser back when a checkout or portal call names no URL.
 * The original dream-api (whose SDK leaves `successUrl`, `cancelUrl` and `returnUrl` optional)
 * sent it to these pages of the calling app's origin, so an app built on it keeps working: after
 * a subscription checkout `/dashboard?success=true` or `?canceled=true`, after a cart
 * `/cart?success=true` or `?canceled=true`, from the billing portal `/dashboard`. The calling
 * app's origin is the request's `Origin` (a browser's call); a call without one (server side)
 * must name them. A URL that is given is used as given.
 */
import { ValidationError } from "@/lib/errors.ts";
import { HttpUrl } from "@/lib/schemas.ts";

export const RETURN_PATHS = {
  subscription: { successUrl: "/dashboard?success=true", cancelUrl: "/dashboard?canceled=true" },
  cart: { successUrl: "/cart?success=true", cancelUrl: "/cart?canceled=true" },
  portal: { returnUrl: "/dashboard" },
} as const;

type Kind = keyof typeof RETURN_PATHS;
type Fields<K extends Kind> = keyof typeof RETURN_PATHS[K] & string;

/** An optional return URL of an input, documented with the page it defaults to. */
export const optionalReturnUrl = (path: string) =>
  HttpUrl.optional().describe(
    `Required without an \`Origin\` header; a browser's call defaults it to \`<its origin>${path}\`` +
      " (as the original dream-api did)",
  );

/** A checkout input's `successUrl` and `cancelUrl`, optional from a browser. */
export function checkoutReturnUrls(kind: "subscription" | "cart") {
  const paths = RETURN_PATHS[kind];
  return {
    successUrl: optionalReturnUrl(paths.successUrl),
    cancelUrl: optionalReturnUrl(paths.cancelUrl),
  };
}

/**
 * The return URLs of a `kind` of call: each one `given`, else its page on `appOrigin`; with no
 * origin to default to, a missing one is 422 naming it (nothing was done yet).
 */
export function returnUrls<K extends Kind>(
  kind: K,
  given: { [F in Fields<K>]?: string | undefined },
  appOrigin: string | null,
): { [F in Fields<K>]: string } {
  const paths = RETURN_PATHS[kind] as Record<Fields<K>, string>;
  const out = {} as { [F in Fields<K>]: string };
  const missing: Fields<K>[] = [];
  for (const field of Object.keys(paths) as Fields<K>[]) {
    const url = given[field];
    if (url !== undefined) out[field] = url;
    else if (appOrigin !== null) out[field] = appOrigin + paths[field];
    else missing.push(field);
  }
  if (missing.length > 0) {
    throw new ValidationError(
      `Invalid ${missing.join(", ")}: required when the request carries no Origin header (a ` +
        `browser's call defaults ${missing.length > 1 ? "them" : "it"} to ${
          missing.map((f) => paths[f]).join(", ")
        } on its page's origin)`,
      missing.map((field) => ({ field, message: "required" })),
    );
  }
  return out;
}
