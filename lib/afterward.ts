/**
 * Work that follows an action already done (its audit entry, giving back what a failed checkout
 * held, a deleted customer's usage): a store failing for a moment must neither leave it undone
 * nor make the done action answer as failed — a retry of the action would act twice, or find
 * nothing left to act on. It is tried as `retried` tries it; what still fails is
 * logged as `what` with `fields` and the error, and not thrown. `fn` must be safe to repeat.
 */
import type { Logger } from "@/lib/logger.ts";
import { AppError } from "@/lib/errors.ts";

export async function afterward(
  logger: Logger,
  what: string,
  fields: Record<string, unknown>,
  fn: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await retried(fn);
    return true;
  } catch (err) {
    logger.error(what, { ...fields, error: String(err) });
    return false;
  }
}

/**
 * What `fn` answers, tried three times (20 and 40 ms apart) while the store fails under it; the
 * last error is thrown. A domain error (`AppError`: not found, a conflict) is an answer, not a
 * failure, and is thrown at once. For reading back what an action has just written, to answer
 * it: a read failing for a moment must not answer a done action as failed. `fn` must be safe to
 * repeat.
 */
export async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt === 3 || err instanceof AppError) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}
