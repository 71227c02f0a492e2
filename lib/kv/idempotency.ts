/** Idempotency records: the first answer to a keyed request, kept 24 h. */
export interface IdempotencyRecord {
  /** SHA-256 of who asked and what was sent; a reuse with another fingerprint is a conflict. */
  fingerprint: string;
  status: number;
  body: unknown;
  createdAt: number;
}

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export const idempotencyKeys = {
  byKey: (pk: string, key: string) => ["idempotency", pk, key] as const,
};
