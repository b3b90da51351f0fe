import { Cron } from 'croner';
import { LifeboatError } from '../engine/errors.js';

/** Croner does the calendar work (time zones, DST, L/W/#): a paused instance is only asked for dates. */
export function cronFor(pattern: string, timezone?: string): Cron {
  return new Cron(pattern, { paused: true, timezone });
}

export function nextRun(pattern: string, timezone: string | undefined, after: Date): Date | null {
  return cronFor(pattern, timezone).nextRun(after);
}

/** For reports (status, tray): a schedule that cannot be computed has no next run, rather than breaking the report. */
export function nextRunOrNull(pattern: string, timezone: string | undefined, after: Date): Date | null {
  try {
    return nextRun(pattern, timezone, after);
  } catch {
    return null;
  }
}

/** The newest scheduled time at or before REF (null when the pattern never fired before REF). */
export function previousRun(pattern: string, timezone: string | undefined, ref: Date): Date | null {
  const runs = cronFor(pattern, timezone).previousRuns(1, new Date(ref.getTime() + 1));
  return runs[0] ?? null;
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** "sunday", "sun", "tues", "thurs": the full name or any start of it from three letters on. */
function weekday(word: string): number {
  return word.length >= 3 ? DAYS.findIndex((d) => d.startsWith(word)) : -1;
}

export const PRESET_HELP = '"hourly", "every 4 hours", "every 15 minutes", "daily at 23:00", "weekdays at 18:30", "weekly on sun at 22:00", or a five-field cron expression such as "0 23 * * *"';

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
    const day = weekday(m[1] ?? '');
    const t = hhmm(m[2] ?? '');
    if (day < 0 || !t) throw new LifeboatError('usage', `"${text}" is not a weekly schedule Lifeboat knows.`, 'Use e.g. "weekly on sunday at 22:00" or "weekly on sun at 22:00" (the time as HH:MM, 24-hour).');
    return `${t[1]} ${t[0]} * * ${day}`;
  }
  return null;
}

/** True when TZ is an IANA time zone this machine's ICU knows. */
export function isKnownTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TIMEZONE_HINT = 'Use an IANA name such as Europe/Berlin or America/New_York, or leave it out for the machine\'s own.';

export function checkTimezone(tz: string): void {
  if (!isKnownTimezone(tz)) throw new LifeboatError('usage', `Unknown time zone "${tz}".`, TIMEZONE_HINT);
}

const FIVE_FIELDS = 'five fields: minute hour day-of-month month day-of-week, e.g. "0 23 * * *" for 23:00 every day';

/**
 * croner's own messages carry its class names and, for time zones, two nested "Original error"s;
 * the person needs only the part that names what is wrong.
 */
function cronerReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/exactly five, six, or seven/.test(message)) return 'it does not have five fields';
  return message.replace(/^Cron\w*:\s*/, '').replace(/\s*Original error:.*$/s, '').replace(/\.$/, '');
}

/** Why croner cannot schedule CRON, or null when it can. */
function cronReason(cron: string, timezone?: string): string | null {
  try {
    return cronFor(cron, timezone).nextRun() ? null : 'it never fires, e.g. the 31st of February';
  } catch (err) {
    return cronerReason(err);
  }
}

/**
 * What is wrong with a stored schedule, or null when croner can compute it: checked when
 * config.json is read, so a hand edit cannot reach the scheduler with a pattern that throws.
 */
export function scheduleProblem(cron: string, timezone?: string): string | null {
  if (timezone !== undefined && !isKnownTimezone(timezone)) return `timezone "${timezone}" is not a known time zone. ${TIMEZONE_HINT}`;
  const reason = cronReason(cron, timezone);
  return reason ? `cron "${cron}" is not a schedule Lifeboat understands (${reason}). Use ${FIVE_FIELDS}` : null;
}

/** A first field for seconds runs a backup every few seconds or minutes on the second: never what a person means. */
function refuseSeconds(text: string, cron: string): void {
  const fields = cron.split(/\s+/).length;
  if (cron.startsWith('@') || fields <= 5) return;
  throw new LifeboatError('usage', `"${text}" has ${fields} fields; Lifeboat's schedules have no seconds or years field.`, `Use ${FIVE_FIELDS}, or a preset such as "hourly".`);
}

/** A schedule as the person typed it → a checked cron expression (and the preset, for display). */
export function parseSchedule(text: string, timezone?: string): { cron: string; label?: string } {
  if (timezone) checkTimezone(timezone);
  const preset = presetToCron(text);
  const cron = preset ?? text.trim();
  refuseSeconds(text.trim(), cron);
  const reason = cronReason(cron, timezone);
  if (reason) throw new LifeboatError('usage', `"${text}" is not a schedule Lifeboat understands (${reason}).`, `Use ${PRESET_HELP}.`);
  return preset ? { cron, label: text.trim() } : { cron };
}
