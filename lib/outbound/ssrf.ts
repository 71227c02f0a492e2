/**
 * Where outbound webhooks may go: public addresses only, checked when an endpoint is created and
 * again before every attempt, after DNS resolution (a name that resolves to a private, loopback
 * or link-local address is refused), unless WEBHOOK_ALLOW_PRIVATE=1. A plain-http attempt then
 * connects to the address checked (`pinnedTarget`), so a name that answers differently the second
 * time it is resolved (DNS rebinding) can't send it elsewhere; https needs no pin, since the TLS
 * handshake with any other server fails on its certificate before anything is sent.
 */

/** How long a name's resolution may take before it counts as not resolving. */
const DNS_TIMEOUT_MS = 3000;

/** IPv4 dotted quad → its four bytes, or null. */
function v4(ip: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

/** True for IPv4 addresses a webhook must not reach. */
function privateV4([a, b]: number[]): boolean {
  return a === 0 || a === 10 || a === 127 || a! >= 224 ||
    (a === 100 && b! >= 64 && b! <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local (cloud metadata)
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19));
}

/**
 * An IPv6 address → its eight 16-bit groups, or null: `::` expanded, a trailing dotted quad
 * (`::ffff:127.0.0.1`) taken as the last two groups, a zone (`%eth0`) dropped.
 */
function v6(ip: string): number[] | null {
  let addr = ip.replace(/%.*$/, "");
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (quad) {
    const b = v4(quad[2]!);
    if (!b) return null;
    addr = `${quad[1]}${((b[0]! << 8) | b[1]!).toString(16)}:${
      ((b[2]! << 8) | b[3]!).toString(16)
    }`;
  }
  const halves = addr.split("::");
  if (halves.length > 2) return null;
  const part = (h: string) => (h === "" ? [] : h.split(":"));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array(missing).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/** The IPv4 address in groups 6–7 of an IPv6 address. */
const lowV4 = (g: number[]) => [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255];

/**
 * True for addresses a webhook must not reach: private, loopback, link-local, reserved, and
 * IPv6 forms that carry one of those IPv4 addresses (mapped `::ffff:…`, compatible `::…`,
 * translated `::ffff:0:…`, NAT64 `64:ff9b::…`, 6to4 `2002:…`), whichever way they are written
 * (a URL writes `[::ffff:127.0.0.1]` as `[::ffff:7f00:1]`). Anything that is not an address is
 * refused too.
 */
export function isPrivateAddress(ip: string): boolean {
  const addr = ip.replace(/^\[|\]$/g, "").toLowerCase();
  const four = v4(addr);
  if (four) return privateV4(four);
  const g = v6(addr);
  if (!g) return true; // not an address at all: refuse
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(6)) return true; // ::, ::1 and IPv4-compatible ::a.b.c.d (deprecated)
  if (zeroUpTo(5) && g[5] === 0xffff) return privateV4(lowV4(g)); // IPv4-mapped
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return privateV4(lowV4(g)); // translated
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    // NAT64: the well-known prefix 64:ff9b::/96 carries the IPv4 address in its last 32 bits;
    // the local-use 64:ff9b:1::/48 (RFC 8215) is this network's own translator
    return g[2] === 1 || privateV4(lowV4(g));
  }
  if (g[0] === 0x2002) return privateV4([g[1]! >> 8, g[1]! & 255]); // 6to4
  const first = g[0]!;
  return (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local fec0::/10 (deprecated)
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && g[1] === 0) || // Teredo 2001::/32 (tunnels to any IPv4 address)
    (first === 0x2001 && g[1] === 0xdb8) || // documentation
    (first === 0x100 && zeroUpTo(4)); // discard 100::/64
}

export class BlockedTargetError extends Error {}

/** A URL's host without the brackets of an IPv6 literal. */
const bareHost = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

/** Whether a (bare) host is an address already, not a name to resolve. */
const isAddressLiteral = (host: string) => v4(host) !== null || host.includes(":");

/**
 * Resolves the URL's host and refuses it when any address is private, or when it can't be
 * resolved — unless `unresolved: "accept"` (an endpoint being made: as at Stripe, a name that
 * does not resolve yet may be registered, and each attempt checks it again and fails while it
 * still does not; only an address known to be private is refused then). Answers the addresses
 * checked.
 */
export async function checkTarget(
  url: URL,
  o: { allowPrivate: boolean; unresolved?: "refuse" | "accept" },
): Promise<string[]> {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new BlockedTargetError("only http and https URLs can receive webhooks");
  }
  if (url.username || url.password) {
    throw new BlockedTargetError("URLs with credentials are refused");
  }
  const host = bareHost(url);
  let addrs: string[];
  if (isAddressLiteral(host)) addrs = [host];
  else if (host === "localhost" || host.endsWith(".localhost")) addrs = ["127.0.0.1"];
  else {
    // bounded: a machine whose resolver does not answer must not hold the call for long
    const signal = AbortSignal.timeout(DNS_TIMEOUT_MS);
    const found = await Promise.all([
      Deno.resolveDns(host, "A", { signal }).catch(() => [] as string[]),
      Deno.resolveDns(host, "AAAA", { signal }).catch(() => [] as string[]),
    ]);
    addrs = found.flat();
    if (addrs.length === 0) {
      if (o.unresolved === "accept") return [];
      throw new BlockedTargetError(`${host} does not resolve`);
    }
  }
  if (!o.allowPrivate) {
    const bad = addrs.find(isPrivateAddress);
    if (bad) {
      throw new BlockedTargetError(
        `${host} is a private, loopback or link-local address (${bad}): webhooks go to public ` +
          "addresses only (WEBHOOK_ALLOW_PRIVATE=1 allows them for local development)",
      );
    }
  }
  return addrs;
}

/**
 * Where a plain-http attempt goes once `checkTarget` has checked `addrs`: the URL with the first
 * address checked in place of the name (an IPv6 one in brackets) and the `Host` header naming the
 * original host, so the fetch connects to what was checked without resolving the name again.
 * Null when there is nothing to pin: https (see above), or a host that is an address already.
 */
export function pinnedTarget(url: URL, addrs: string[]): { url: URL; host: string } | null {
  if (url.protocol !== "http:" || addrs.length === 0) return null;
  if (isAddressLiteral(bareHost(url))) return null;
  const pinned = new URL(url.href);
  const addr = addrs[0]!;
  pinned.hostname = addr.includes(":") ? `[${addr}]` : addr;
  return { url: pinned, host: url.host };
}
