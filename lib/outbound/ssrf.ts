/**
 * Where outbound webhooks may go: public addresses only, checked when an endpoint is created and
 * again before every attempt, after DNS resolution (a name that resolves to a private, loopback
 * or link-local address is refused), unless WEBHOOK_ALLOW_PRIVATE=1.
 */

/** IPv4 dotted quad → its four bytes, or null. */
function v4(ip: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

/** True for addresses a webhook must not reach: private, loopback, link-local, reserved. */
export function isPrivateAddress(ip: string): boolean {
  const addr = ip.replace(/^\[|\]$/g, "").toLowerCase();
  const four = v4(addr);
  if (four) {
    const [a, b] = four as [number, number, number, number];
    return a === 0 || a === 10 || a === 127 || a >= 224 ||
      (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
      (a === 169 && b === 254) || // link-local (cloud metadata)
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0) ||
      (a === 198 && (b === 18 || b === 19));
  }
  if (!addr.includes(":")) return true; // not an address at all: refuse
  if (addr === "::" || addr === "::1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped) return isPrivateAddress(mapped[1]!);
  const first = parseInt(addr.split(":")[0] || "0", 16);
  return (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00; // multicast
}

export class BlockedTargetError extends Error {}

/**
 * Resolves the URL's host and refuses it when any address is private (or when it can't be
 * resolved). Answers the addresses checked.
 */
export async function checkTarget(url: URL, o: { allowPrivate: boolean }): Promise<string[]> {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new BlockedTargetError("only http and https URLs can receive webhooks");
  }
  if (url.username || url.password) {
    throw new BlockedTargetError("URLs with credentials are refused");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addrs: string[];
  if (v4(host) || host.includes(":")) addrs = [host];
  else if (host === "localhost" || host.endsWith(".localhost")) addrs = ["127.0.0.1"];
  else {
    const found = await Promise.all([
      Deno.resolveDns(host, "A").catch(() => [] as string[]),
      Deno.resolveDns(host, "AAAA").catch(() => [] as string[]),
    ]);
    addrs = found.flat();
    if (addrs.length === 0) throw new BlockedTargetError(`${host} does not resolve`);
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
