import type { Clock } from '../../agent/schedule/clock.js';

interface Timer {
  id: number;
  dueMono: number;
  fn: () => void;
}

/**
 * A clock tests move by hand. Timers run on monotonic time, as Node's do: a suspend moves the wall
 * clock but not the monotonic one, so a pending timer fires late by wall-clock measure, exactly
 * what happens to a real agent after the lid of a laptop or the till PC's sleep.
 */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private timers: Timer[] = [];
  private seq = 0;
  fired = 0;

  constructor(start: Date | string) {
    this.wall = new Date(start).getTime();
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const t = { id: ++this.seq, dueMono: this.mono + Math.max(0, ms), fn };
    this.timers.push(t);
    return t.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Lets MS of awake time pass, firing timers in order at their due times. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      this.timers.sort((a, b) => a.dueMono - b.dueMono || a.id - b.id);
      const t = this.timers[0];
      if (!t || t.dueMono > end) break;
      this.timers.shift();
      this.wall += t.dueMono - this.mono;
      this.mono = t.dueMono;
      this.fired++;
      t.fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }

  /** The machine sleeps for MS: the wall clock jumps, monotonic time and timers stand still. */
  suspend(ms: number): void {
    this.wall += ms;
  }

  /** Someone sets the clock (or NTP steps it). */
  setWall(date: Date | string): void {
    this.wall = new Date(date).getTime();
  }
}
