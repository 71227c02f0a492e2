/**
 * Amounts in minor units, as Stripe counts them: cents for usd, whole yen for jpy. Shared by
 * the server's pages and the islands (pure, no server code). Zero-decimal currencies are
 * Stripe's list (https://docs.stripe.com/currencies#zero-decimal).
 */
export const ZERO_DECIMAL = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);

/** How many minor units make one major unit (1 for zero-decimal currencies, else 100). */
export const unitsPerMajor = (currency: string) =>
  ZERO_DECIMAL.has(currency.toLowerCase()) ? 1 : 100;

/** Minor units → the amount as typed in a form ("19.00"; "500" for jpy). */
export function toMajorInput(minor: number, currency: string): string {
  const per = unitsPerMajor(currency);
  return per === 1 ? String(minor) : (minor / per).toFixed(2);
}

/** A typed amount → minor units (NaN when it is not a number). */
export function fromMajorInput(typed: string, currency: string): number {
  return Math.round(Number(typed) * unitsPerMajor(currency));
}

/** The input step for amounts in a currency ("1" for jpy, "0.01" for usd). */
export const amountStep = (currency: string) => unitsPerMajor(currency) === 1 ? "1" : "0.01";

/** Minor units shown in the currency ("$19.00", "¥500"). */
export function money(minor: number, currency = "usd"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() })
    .format(minor / unitsPerMajor(currency));
}

/** Stripe's presentment currencies (lowercase ISO 4217), https://docs.stripe.com/currencies. */
export const STRIPE_CURRENCIES: ReadonlySet<string> = new Set<string>(
  ("usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bif bmd bnd bob brl bsd bwp byn " +
    "bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd " +
    "gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jpy kes kgs khr kmf krw kyd kzt lak lbp lkr " +
    "lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen " +
    "pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs " +
    "top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw").split(" "),
);
