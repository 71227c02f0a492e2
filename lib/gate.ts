/** A bounded gate for CPU-heavy work (password hashing): a few at a time, a short queue, then no. */
import { RateLimitedError } from "@/lib/errors.ts";

export class Gate {
  #running = 0;
  #waiting: (() => void)[] = [];
  #concurrency: number;
  #maxQueue: number;

  constructor(concurrency: number, maxQueue: number) {
    this.#concurrency = concurrency;
    this.#maxQueue = maxQueue;
  }

  /**
   * Runs `fn` when fewer than `concurrency` others run; waits in line otherwise. When the line
   * is full the call is refused at once with 429 `rate_limited`, before any work is done.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueue) {
        throw new RateLimitedError("The server is busy checking passwords; try again shortly", 1);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes straight to the next in line
      else this.#running--;
    }
  }
}
