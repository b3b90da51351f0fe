import { Cron } from 'croner';
import { LifeboatError } from '../engine/errors.js';

/** Croner does the calendar work (time zones, DST, L/W/#): a paused instance is only asked for dates. */
export function cronFor(pattern: string, timezone?: string): Cron {
  return new Cron(pattern, { paused: true, timezone });
}

export function nextRun(pattern: string, timezone: string | undefined, after: Date): Date | null {
  return cronFor(pattern, timezone).nextRun(after);
}

/** The newest scheduled time at or before REF (null when the pattern never fired before REF). */
export function previousRun(pattern: string, timezone: string | undefined, ref: Date): Date | null {
  const runs = cronFor(pattern, timezone).previousRuns(1, new Date(ref.getTime() + 1));
  return runs[0] ?? null;
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export const PRESET_HELP = '"hourly", "every 4 hours", "every 15 minutes", "daily at 23:00", "weekdays at 18:30", "weekly on sunday at 22:00", or a cron expression such as "0 23 * * *"';

function hhmm(text: string): [number, number] | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? [h, min] : null;
}

/** Turns a preset such as "daily at 23:00" into cron; returns null when TEXT is not a preset. */
export function presetToCron(text: string): string | null {
  const s = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (s === 'hourly' || s === 'every hour') return '0 * * * *';
  let m = /^every (\d+) hours?$/.exec(s);
  if (m) {
    const n = Number(m[1]);
    if (n < 1 || n > 23) throw new LifeboatError('usage', `"${text}": hours must be from 1 to 23.`, `Use e.g. "every 4 hours".`);
    return n === 1 ? '0 * * * *' : `0 */${n} * * *`;
  }
  m = /^every (\d+) minutes?$/.exec(s);
  if (m) {
    const n = Number(m[1]);
    if (n < 1 || n > 59) throw new LifeboatError('usage', `"${text}": minutes must be from 1 to 59.`, `Use e.g. "every 15 minutes", or "hourly".`);
    return `*/${n} * * * *`;
  }
  m = /^(daily|weekdays) at (.+)$/.exec(s);
  if (m) {
    const t = hhmm(m[2] ?? '');
    if (!t) throw new LifeboatError('usage', `"${text}": the time must be HH:MM on a 24-hour clock.`, 'Use e.g. "daily at 23:00".');
    return `${t[1]} ${t[0]} * * ${m[1] === 'weekdays' ? '1-5' : '*'}`;
  }
  m = /^weekly on (\w+) at (.+)$/.exec(s);
  if (m) {
    const day = DAYS.indexOf(m[1] ?? '');
    const t = hhmm(m[2] ?? '');
    if (day < 0 || !t) throw new LifeboatError('usage', `"${text}" is not a weekly schedule Lifeboat knows.`, 'Use e.g. "weekly on sunday at 22:00".');
    return `${t[1]} ${t[0]} * * ${day}`;
  }
  return null;
}

export function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new LifeboatError('usage', `Unknown time zone "${tz}".`, 'Use an IANA name such as Europe/Berlin or America/New_York, or leave it out for the machine\'s own.');
  }
}

/** A schedule as the person typed it → a checked cron expression (and the preset, for display). */
export function parseSchedule(text: string, timezone?: string): { cron: string; label?: string } {
  if (timezone) checkTimezone(timezone);
  const preset = presetToCron(text);
  const cron = preset ?? text.trim();
  try {
    const next = cronFor(cron, timezone).nextRun();
    if (!next) throw new Error('it never fires');
  } catch (err) {
    throw new LifeboatError('usage', `"${text}" is not a schedule Lifeboat understands (${(err as Error).message}).`, `Use ${PRESET_HELP}.`);
  }
  return preset ? { cron, label: text.trim() } : { cron };
}
