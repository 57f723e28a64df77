// Long work in slices that yield to the event loop, so one big request never keeps every other
// request waiting: each slice costs a few milliseconds, then pending I/O (other requests,
// timers) runs before the next one.

/** Lets queued I/O and timers run: setImmediate runs after them, a resolved promise would not. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Calls `each` on every item, yielding to the event loop after every `sliceSize` items. */
export async function forEachInSlices<T>(items: readonly T[], sliceSize: number, each: (item: T, index: number) => void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % sliceSize === 0) await yieldToEventLoop();
    each(items[i]!, i);
  }
}

/** `items` cut into consecutive slices of at most `size`. */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
