/** Per-key in-process serialisation: calls for one key run one after another. */
export class KeyedMutex {
  #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for `key` has settled. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
