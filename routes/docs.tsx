/** /docs — the API reference, rendered on the server from /openapi.json; works offline, no scripts. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Layout } from "@/components/Layout.tsx";
import { Table } from "@/components/Table.tsx";
import { Md } from "@/components/Markdown.tsx";
import { renderPage } from "@/lib/http/render.tsx";
import { ownOrigin } from "@/lib/http/request.ts";

type Json = Record<string, unknown>;
type Schema = Json & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Json>;
  required?: string[];
};

export const DOC_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "dream-api",
    version: "0.1.0",
    description: "Usage-based billing and stores on your own Stripe account. Every error is " +
      '`{"error":{"code","message","requestId",…}}` with an `X-Request-Id` header.',
  },
};

function resolve(doc: Json, s: Schema | undefined): Schema | undefined {
  if (!s?.$ref) return s;
  const name = s.$ref.split("/").pop()!;
  return ((doc.components as Json)?.schemas as Record<string, Schema>)?.[name];
}

function typeOf(doc: Json, s: Schema | undefined): string {
  const r = resolve(doc, s);
  if (!r) return "any";
  if (s?.$ref) return s.$ref.split("/").pop()!;
  if (Array.isArray(r.type)) return r.type.join(" | ");
  if (r.type === "array") return `${typeOf(doc, r.items as Schema)}[]`;
  if (r.enum) return (r.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  if (r.anyOf || r.oneOf) {
    return ((r.anyOf ?? r.oneOf) as Schema[]).map((x) => typeOf(doc, x)).join(" | ");
  }
  return String(r.type ?? "object");
}

function Fields({ doc, schema }: { doc: Json; schema: Schema | undefined }) {
  const s = resolve(doc, schema);
  const props = s?.properties;
  if (!props || Object.keys(props).length === 0) return <p class="muted">No fields.</p>;
  return (
    <Table
      columns={["Field", "Type", "Required", "Notes"]}
      rows={Object.entries(props).map(([name, p]) => {
        const r = resolve(doc, p as Schema) ?? {};
        const notes = [
          r.description,
          r.example !== undefined ? `e.g. ${JSON.stringify(r.example)}` : null,
        ]
          .filter(Boolean).join(" — ");
        return [
          <code key="field">{name}</code>,
          typeOf(doc, p as Schema),
          s?.required?.includes(name) ? "yes" : "no",
          <Md key="notes" text={notes} />,
        ];
      })}
    />
  );
}

/**
 * An example of a schema's JSON: its own `example` where given, else one made from its type
 * (enums take their first value, nullable takes the non-null branch), a few levels deep.
 */
export function exampleOf(doc: Json, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (!s || depth > 6) return null;
  if (s.example !== undefined) return s.example;
  if (s.enum) return (s.enum as unknown[])[0];
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (branches) {
    const pick = branches.find((b) => resolve(doc, b)?.type !== "null") ?? branches[0];
    return exampleOf(doc, pick, depth + 1);
  }
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== "null") : s.type;
  if (type === "object" || s.properties) {
    return Object.fromEntries(
      Object.entries(s.properties ?? {}).map((
        [k, v],
      ) => [k, exampleOf(doc, v as Schema, depth + 1)]),
    );
  }
  if (type === "array") return [exampleOf(doc, s.items as Schema, depth + 1)];
  if (type === "integer" || type === "number") return 0;
  if (type === "boolean") return false;
  if (type === "string") return s.format === "date-time" ? "2026-11-24T12:00:00.000Z" : "string";
  return null;
}

const SECURITY_NAMES: Record<string, string> = {
  secretKey: "secret key",
  publishableKey: "publishable key",
  customerToken: "customer token",
  session: "dashboard session",
  accessToken: "access token",
};

function Docs({ doc, base }: { doc: Json; base: string }) {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const ops: { tag: string; method: string; path: string; op: Json }[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      ops.push({ tag: ((op.tags as string[] | undefined) ?? ["Other"])[0]!, method, path, op });
    }
  }
  const tags = [...new Set(ops.map((o) => o.tag))];
  const anchor = (m: string, p: string) => `${m}-${p}`.replace(/[^a-zA-Z0-9]+/g, "-");
  return (
    <Layout title="API reference — dream-api">
      <h1>API reference</h1>
      <p>
        Base URL <code>{base}</code>. The machine-readable document is{" "}
        <a href="/openapi.json">/openapi.json</a>{" "}
        (OpenAPI 3.1). Money is integer minor units (cents) with an ISO currency.
      </p>
      <section aria-labelledby="start-h">
        <h2 id="start-h">Getting started</h2>
        <ol>
          <li>
            <strong>Keys.</strong>{" "}
            Sign up, create a project in the dashboard: you get a publishable key{" "}
            <code>pk_test_…</code> (the project; safe in browsers) and a secret key{" "}
            <code>sk_test_…</code> (shown once; keep it on your server).
          </li>
          <li>
            <strong>A customer.</strong>{" "}
            Use your own user ids. Customers are created on the free tier the first time you name
            them, or explicitly:
            <pre
              tabIndex={0}
            ><code>{`curl -X POST ${base}/api/customers -H "Authorization: Bearer $SK" \\\n  -H "Content-Type: application/json" -d '{"id":"user_42","email":"ann@example.com"}'`}</code></pre>
          </li>
          <li>
            <strong>Track usage</strong> on each billable call; at the tier limit you get 429{" "}
            <code>tier_limit_reached</code> and nothing is counted:
            <pre
              tabIndex={0}
            ><code>{`curl -X POST ${base}/api/data -H "Authorization: Bearer $SK" -H "X-User-Id: user_42" \\\n  -H "Idempotency-Key: job-981"`}</code></pre>
          </li>
          <li>
            <strong>Sell an upgrade.</strong>{" "}
            Send the customer to checkout; webhooks are handled for you:
            <pre
              tabIndex={0}
            ><code>{`curl -X POST ${base}/api/create-checkout -H "Authorization: Bearer $SK" -H "X-User-Id: user_42" \\\n  -H "Content-Type: application/json" \\\n  -d '{"tier":"pro","successUrl":"https://app.example/ok","cancelUrl":"https://app.example/pricing"}'`}</code></pre>
          </li>
          <li>
            <strong>Store cart.</strong> From the browser with the publishable key:
            <pre
              tabIndex={0}
            ><code>{`curl -X POST ${base}/api/cart/checkout -H "Authorization: Bearer $PK" -H "Content-Type: application/json" \\\n  -d '{"items":[{"productId":"prod_…","quantity":2}],"successUrl":"https://shop.example/thanks","cancelUrl":"https://shop.example/cart"}'`}</code></pre>
          </li>
        </ol>
        <p>
          Errors:{" "}
          <code>
            {`{"error":{"code":"validation_failed","message":"…","requestId":"req_…","details":[{"field":"…","message":"…"}]}}`}
          </code>
        </p>
      </section>
      <nav aria-label="Endpoints">
        <h2>Endpoints</h2>
        {tags.map((tag) => (
          <details open>
            <summary>{tag}</summary>
            <ul>
              {ops.filter((o) => o.tag === tag).map((o) => (
                <li>
                  <a href={`#${anchor(o.method, o.path)}`}>
                    <code>{o.method.toUpperCase()} {o.path}</code>
                  </a>{" "}
                  <Md text={o.op.summary} />
                </li>
              ))}
            </ul>
          </details>
        ))}
      </nav>
      {ops.map(({ method, path, op }) => {
        const security = (op.security as Record<string, unknown>[] | undefined) ?? [];
        const params = (op.parameters as Json[] | undefined) ?? [];
        const body = (op.requestBody as Json | undefined)?.content as
          | Record<string, Json>
          | undefined;
        const bodySchema = body?.["application/json"]?.schema ??
          body?.["multipart/form-data"]?.schema;
        return (
          <section id={anchor(method, path)} class="op">
            <h3>
              <code>{method.toUpperCase()} {path}</code>
            </h3>
            <p>
              <Md text={op.summary} />
            </p>
            {op.description
              ? (
                <p>
                  <Md text={op.description} />
                </p>
              )
              : null}
            <p>
              <strong>Auth:</strong> {security.length
                ? security.map((s) => Object.keys(s).map((k) => SECURITY_NAMES[k] ?? k).join(" + "))
                  .join(", or ")
                : "none"}
            </p>
            {params.length > 0 && (
              <Table
                caption="Parameters"
                columns={["Name", "In", "Required", "Type", "Notes"]}
                rows={params.map((p) => [
                  <code key="param">{String(p.name)}</code>,
                  String(p.in),
                  p.required
                    ? "yes"
                    : /^Required with a secret key/.test(String(p.description ?? ""))
                    ? "with a secret key"
                    : "no",
                  typeOf(doc, p.schema as Schema),
                  <Md key="notes" text={p.description} />,
                ])}
              />
            )}
            {bodySchema
              ? (
                <>
                  <h4>Request body</h4>
                  <Fields doc={doc} schema={bodySchema as Schema} />
                </>
              )
              : null}
            <h4>Responses</h4>
            <ul>
              {Object.entries(op.responses as Record<string, Json>).map(([status, r]) => {
                const schema = ((r.content as Record<string, Json> | undefined)?.[
                  "application/json"
                ])?.schema as Schema | undefined;
                return (
                  <li>
                    <code>{status}</code> <Md text={r.description} />
                    {schema && /^2/.test(status) && (
                      <details>
                        <summary>Example</summary>
                        <pre tabIndex={0} aria-label={`Example ${status} answer`}>
                          <code>{JSON.stringify(exampleOf(doc, schema), null, 2)}</code>
                        </pre>
                      </details>
                    )}
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </Layout>
  );
}

export function mountDocs(app: OpenAPIHono<AppEnv>) {
  let cached: Json | null = null;
  const doc = () => (cached ??= app.getOpenAPI31Document(DOC_CONFIG) as unknown as Json);
  app.get("/docs", (c) => c.html(renderPage(<Docs doc={doc()} base={ownOrigin(c)} />)));
}
