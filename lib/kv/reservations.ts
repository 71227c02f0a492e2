/** Stock reservations of store checkouts: pending until paid (a sale) or expired (released). */
export interface ReservationLine {
  tierId: string;
  name: string;
  quantity: number;
  unitAmount: number;
  currency: string;
  /** Whether stock was taken for it (finite inventory at reservation time). */
  counted: boolean;
}

export interface Reservation {
  id: string;
  pk: string;
  lines: ReservationLine[];
  status: "pending" | "completed" | "released";
  sessionId: string | null;
  email: string | null;
  amountTotal: number;
  currency: string;
  createdAt: string;
  /** When the hold ends (ms epoch); the sweep releases it after this. */
  expiresAt: number;
  /** Hash of the client address that made the hold (bounded per client while pending). */
  client?: string | null;
}

export const reservationKeys = {
  byId: (pk: string, id: string) => ["reservations", pk, id] as const,
  bySession: (sessionId: string) => ["reservations_by_session", sessionId] as const,
  /** Due index: a scan up to "now" finds only holds that should have ended. */
  due: (expiresAt: number, pk: string, id: string) =>
    ["reservations_due", new Date(expiresAt).toISOString(), pk, id] as const,
  listDue: () => ["reservations_due"] as const,
  /** Pending holds of one client address in one project (a number, changed with the holds). */
  heldByClient: (pk: string, client: string) => ["holds_by_client", pk, client] as const,
};
