/**
 * Time as the scheduler sees it. Tests give it a clock they move by hand (days, DST changes, an
 * eight-hour suspend) without waiting; the agent gives it the real one.
 */
export interface Clock {
  /** Wall-clock time: jumps on resume, manual changes and NTP steps. */
  now(): number;
  /** Monotonic milliseconds: stands still while the machine sleeps on most systems. */
  monotonic(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The agent stays alive because of its IPC server, not because of a schedule timer.
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
