import assert from "node:assert/strict";
import {
  BlockedTargetError,
  checkTarget,
  isPrivateAddress,
  pinnedTarget,
} from "@/lib/outbound/ssrf.ts";

Deno.test("isPrivateAddress(): private, loopback, link-local and reserved ranges; public ones pass", () => {
  for (
    const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "[::1]",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "224.0.0.1",
      "not-an-ip",
      // IPv4 addresses inside IPv6 ones, however written (a URL writes them in hex)
      "::ffff:7f00:1",
      "[::ffff:7f00:1]",
      "0:0:0:0:0:ffff:7f00:0001",
      "::ffff:a9fe:a9fe",
      "::127.0.0.1",
      "::7f00:1",
      "::",
      "0:0:0:0:0:0:0:1",
      "::ffff:0:7f00:1",
      "64:ff9b::7f00:1",
      "64:ff9b::10.0.0.1",
      "64:ff9b:1::808:808",
      "2002:7f00:1::",
      "2002:c0a8:101::1",
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "2001:db8::1",
      "fec0::1",
      "fe80::1%eth0",
      "ff02::1",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      "::ffff:300.0.0.1",
    ]
  ) assert.equal(isPrivateAddress(ip), true, ip);
  for (
    const ip of [
      "8.8.8.8",
      "172.32.0.1",
      "1.1.1.1",
      "2606:4700::1111",
      "::ffff:8.8.8.8",
      "::ffff:808:808",
      "64:ff9b::808:808",
      "2002:808:808::1",
      "2a00:1450:4001:81b::200e",
      "2606:4700:4700:0:0:0:0:1111",
    ]
  ) assert.equal(isPrivateAddress(ip), false, ip);
});

Deno.test("checkTarget(): IPv6 literals carrying a private IPv4 address are refused as URLs write them", async () => {
  for (
    const u of [
      "http://[::ffff:127.0.0.1]:9/x",
      "http://[::ffff:169.254.169.254]/latest/meta-data",
      "http://[0:0:0:0:0:ffff:10.0.0.1]/",
      "http://[::127.0.0.1]/",
      "http://[64:ff9b::127.0.0.1]/",
      "http://[2002:7f00:1::1]/",
    ]
  ) {
    await assert.rejects(
      () => checkTarget(new URL(u), { allowPrivate: false }),
      BlockedTargetError,
      u,
    );
  }
  assert.deepEqual(
    await checkTarget(new URL("http://[::ffff:8.8.8.8]/"), { allowPrivate: false }),
    ["::ffff:808:808"],
  );
});

Deno.test("checkTarget(): literal and named private targets refused unless allowed; schemes and credentials", async () => {
  for (
    const u of ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/", "http://10.0.0.5/"]
  ) {
    await assert.rejects(
      () => checkTarget(new URL(u), { allowPrivate: false }),
      BlockedTargetError,
    );
    assert.ok((await checkTarget(new URL(u), { allowPrivate: true })).length > 0);
  }
  await assert.rejects(
    () => checkTarget(new URL("ftp://example.com/"), { allowPrivate: true }),
    BlockedTargetError,
  );
  await assert.rejects(
    () => checkTarget(new URL("https://u:p@93.184.215.14/"), { allowPrivate: false }),
    BlockedTargetError,
  );
  assert.deepEqual(
    await checkTarget(new URL("https://93.184.215.14/hook"), { allowPrivate: false }),
    [
      "93.184.215.14",
    ],
  );
});

Deno.test("pinnedTarget(): plain http to a name goes to the address checked, with the name as Host", () => {
  const at = (u: string, addrs: string[]) => {
    const p = pinnedTarget(new URL(u), addrs);
    return p && { url: p.url.href, host: p.host };
  };
  assert.deepEqual(at("http://hooks.example.com/in?x=1", ["93.184.216.34", "2606:2800::1"]), {
    url: "http://93.184.216.34/in?x=1",
    host: "hooks.example.com",
  });
  assert.deepEqual(at("http://hooks.example.com:8080/in", ["2606:2800::1"]), {
    url: "http://[2606:2800::1]:8080/in",
    host: "hooks.example.com:8080",
  });
  // https fails its handshake anywhere else; an address needs no pin; nothing checked, no pin
  assert.equal(at("https://hooks.example.com/in", ["93.184.216.34"]), null);
  assert.equal(at("http://93.184.216.34/in", ["93.184.216.34"]), null);
  assert.equal(at("http://[2606:2800::1]/in", ["2606:2800::1"]), null);
  assert.equal(at("http://hooks.example.com/in", []), null);
});

Deno.test("a pinned attempt connects to the address and names the host as deliveries send it", async () => {
  const seen: { host: string | null; url: string }[] = [];
  await using srv = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    seen.push({ host: req.headers.get("host"), url: req.url });
    return new Response("ok");
  });
  const pin = pinnedTarget(new URL(`http://hooks.example.com:${srv.addr.port}/in?x=1`), [
    "127.0.0.1",
  ])!;
  // what lib/outbound/deliver.ts does with a pin
  using client = Deno.createHttpClient({ allowHost: true });
  const res = await fetch(pin.url, {
    method: "POST",
    body: "{}",
    headers: { Host: pin.host },
    client,
  });
  assert.equal(await res.text(), "ok");
  assert.deepEqual(seen, [{
    host: `hooks.example.com:${srv.addr.port}`,
    url: `http://hooks.example.com:${srv.addr.port}/in?x=1`,
  }]);
});
