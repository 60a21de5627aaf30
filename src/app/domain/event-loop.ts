/**
 * Lets the event loop run what is waiting (I/O, timers, other requests) before the caller goes on.
 * Long loops (a 10,000-participant roster) call it between slices of work, so that no request
 * waits behind one of them for long.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
