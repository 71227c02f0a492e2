/**
 * CSV exports of customers, orders and events: RFC 4180 (CRLF, quoted where needed, by the
 * maintained `csv-stringify`), streamed a page at a time (memory stays flat whatever the size),
 * and safe to open in a spreadsheet: a cell that starts with = + - @ (or a tab or CR) gets a
 * leading apostrophe, so it is never run as a formula.
 */
import { stringify } from "csv-stringify/sync";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { customerPage } from "@/lib/customers/customers.ts";
import { orderPage } from "@/lib/store/orders.ts";
import { eventPage } from "@/lib/dashboard/metrics.ts";

export type ExportKind = "customers" | "orders" | "events";
type Cell = string | number | null | undefined;
type Page = { rows: Cell[][]; nextCursor: string | null };

const PAGE = 100;

/** A cell as written: text, with formula triggers defused. */
export function safeCell(v: Cell): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

const csv = (rows: Cell[][]) =>
  stringify(rows.map((r) => r.map(safeCell)), {
    record_delimiter: "\r\n",
    quoted_match: /[\r\n]/,
  });

const HEADERS: Record<ExportKind, string[]> = {
  customers: ["id", "email", "name", "plan", "subscription_status", "usage", "limit", "created_at"],
  orders: [
    "id",
    "status",
    "email",
    "name",
    "items",
    "amount_total",
    "amount_refunded",
    "currency",
    "created_at",
  ],
  events: ["id", "type", "created_at", "summary", "outcome", "actor"],
};

async function page(s: Services, p: Project, kind: ExportKind, cursor?: string): Promise<Page> {
  const o = { limit: PAGE, ...(cursor ? { cursor } : {}) };
  if (kind === "customers") {
    const pg = await customerPage(s, p, o);
    return {
      rows: pg.customers.map((c) => [
        c.id,
        c.email,
        c.name,
        c.plan,
        c.subscription?.status ?? "",
        c.usage.count,
        c.usage.limit ?? "",
        c.createdAt,
      ]),
      nextCursor: pg.nextCursor,
    };
  }
  if (kind === "orders") {
    const pg = await orderPage(s, p, o);
    return {
      rows: pg.orders.map((x) => [
        x.id,
        x.status,
        x.email,
        x.name,
        x.items.map((i) => `${i.quantity} x ${i.name}`).join("; "),
        x.amountTotal,
        x.amountRefunded,
        x.currency,
        x.createdAt,
      ]),
      nextCursor: pg.nextCursor,
    };
  }
  const pg = await eventPage(s, p, o);
  return {
    rows: pg.events.map((e) => [
      e.id,
      e.type,
      new Date(e.created * 1000).toISOString(),
      e.summary,
      e.outcome,
      e.actor ?? "",
    ]),
    nextCursor: pg.nextCursor,
  };
}

/** The export as a byte stream: the header line, then one chunk per page read. */
export function exportCsv(s: Services, p: Project, kind: ExportKind): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (!started) {
        started = true;
        ctl.enqueue(enc.encode(csv([HEADERS[kind]])));
        return;
      }
      if (done) return ctl.close();
      const pg = await page(s, p, kind, cursor);
      if (pg.rows.length) ctl.enqueue(enc.encode(csv(pg.rows)));
      if (pg.nextCursor) cursor = pg.nextCursor;
      else done = true;
    },
  });
}
