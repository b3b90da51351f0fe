import type { Job } from '../config/job.js';
import type { BackupProgress } from '../engine/backup-options.js';
import { ago, type JobStatus } from '../runner/status.js';
import { isPaused, missedOccurrence } from '../schedule/catch-up.js';
import type { TrayState } from './icons.js';

/** What the tray shows, computed from the agent's status; no I/O, so it is tested on its own. */
export interface TrayView {
  state: TrayState;
  /** The first, greyed menu line: "Last backup 2 h ago — OK". */
  statusLine: string;
  tooltip: string;
  jobs: Array<{ id: string; name: string }>;
  anyPaused: boolean;
  allPaused: boolean;
}

export interface TrayInput {
  now: number;
  jobs: Job[];
  statuses: JobStatus[];
  /** The error kind of each job's last failure (from the history), for plain words. */
  failureKinds: Map<string, string | null>;
  running: { jobId: string; progress: BackupProgress | null } | null;
  /** False when a job's backup folder is on a disk or share that is not there (unmounted NAS, unplugged disk). */
  reachable: (path: string) => boolean;
  configProblem: string | null;
}

/**
 * A failed copy in the few words a menu line has room for, led by what to do: the full warning
 * ("Copy of pos-….sqlite to Google Drive (gzip) failed: … Reconnect Google Drive with …") is in
 * the notification and the log.
 */
export function copyProblemLine(warning: string): string {
  if (/reconnect google drive/i.test(warning)) return 'Reconnect Google Drive: copies to Drive are waiting';
  if (/google drive is full/i.test(warning)) return 'Google Drive is full: copies to Drive are waiting';
  if (/cannot be reached|not the one Lifeboat set up/i.test(warning)) return 'Copy folder not reachable: plug in the drive or connect the share';
  const first = warning.replace(/^Copy (?:of \S+ )?to /, 'copy to ').split('. ')[0] ?? warning;
  return first.length > 90 ? `${first.slice(0, 89)}…` : first;
}

/** A run missed by more than this counts as overdue (the catch-up runs a minute after start). */
export const OVERDUE_AFTER_MS = 15 * 60_000;

const FAILURE_WORDS: Record<string, string> = {
  busy: 'database locked',
  source: 'database missing or unreadable',
  check: 'the backup did not pass its check',
  destination: 'cannot write to the backup folder',
  config: 'a job setting is wrong',
  internal: 'unexpected error',
};

const PHASE_WORDS: Record<BackupProgress['phase'], string> = {
  waiting: 'waiting for a quiet moment',
  copying: 'copying',
  checking: 'checking',
  hashing: 'checking',
  compressing: 'compressing',
  finishing: 'finishing',
  uploading: 'uploading a copy',
  downloading: 'downloading',
};

export { ago };

function clock(iso: string, now: number): string {
  const d = new Date(iso);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${d.toLocaleDateString([], { weekday: 'short' })} ${time}`;
}

function progressWords(p: BackupProgress | null): string {
  if (!p) return 'starting';
  const pct = p.total && p.total > 0 && p.done !== undefined ? ` ${Math.min(100, Math.floor((100 * p.done) / p.total))}%` : '';
  return `${PHASE_WORDS[p.phase]}${pct}`;
}

export function trayView(input: TrayInput): TrayView {
  const { now, jobs, statuses } = input;
  const several = jobs.length > 1;
  const named = (id: string, text: string): string => (several ? `${jobs.find((j) => j.id === id)?.name ?? id}: ${text}` : text);
  const paused = jobs.filter((j) => isPaused(j, now));
  const base = { jobs: jobs.map((j) => ({ id: j.id, name: j.name })), anyPaused: paused.length > 0, allPaused: jobs.length > 0 && paused.length === jobs.length };

  if (input.running) {
    const job = jobs.find((j) => j.id === input.running?.jobId);
    const line = `Backing up${several ? ` ${job?.name ?? input.running.jobId}` : ''}: ${progressWords(input.running.progress)}`;
    return { ...base, state: 'running', statusLine: line, tooltip: `Lifeboat: ${line}` };
  }

  const failed = statuses
    .filter((s) => s.lastFailure && (!s.lastSuccess || Date.parse(s.lastFailure.at) > Date.parse(s.lastSuccess.at)))
    .sort((a, b) => Date.parse(b.lastFailure?.at ?? '') - Date.parse(a.lastFailure?.at ?? ''));
  const worst = failed[0];
  if (worst?.lastFailure) {
    const kind = input.failureKinds.get(worst.id) ?? null;
    const words = (kind && FAILURE_WORDS[kind]) ?? (worst.lastFailure.reason ?? 'unknown reason').split('. ')[0] ?? 'unknown reason';
    const line = named(worst.id, `Backup failed ${ago(now - Date.parse(worst.lastFailure.at))}: ${words}`);
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    return { ...base, state: 'error', statusLine: line + more, tooltip: `Lifeboat: backup failed — ${line}${more}. See the log.` };
  }

  const warnings: string[] = [];
  if (input.configProblem) warnings.push('config.json has a problem (see the log)');
  for (const job of jobs) {
    const folder = job.destinations[0]?.path;
    if (folder && !input.reachable(folder)) warnings.push(named(job.id, `backup folder not reachable: ${folder}`));
    const s = statuses.find((x) => x.id === job.id);
    const lastOk = s?.lastSuccess ? Date.parse(s.lastSuccess.at) : null;
    // A run due more than the grace ago that nothing has covered since.
    const missed = missedOccurrence(job, lastOk, now - OVERDUE_AFTER_MS);
    if (missed) warnings.push(named(job.id, `backup overdue since ${clock(missed.toISOString(), now)}`));
    // The local backup counted, but a copy did not arrive (Drive needs reconnecting, NAS offline).
    const copyProblem = s?.warnings?.[0];
    if (copyProblem) warnings.push(named(job.id, copyProblemLine(copyProblem)));
    else if (s?.pendingUploads) warnings.push(named(job.id, `${s.pendingUploads} ${s.pendingUploads === 1 ? 'copy waits' : 'copies wait'} to be uploaded again`));
  }
  if (warnings[0]) {
    const more = warnings.length > 1 ? ` (and ${warnings.length - 1} more)` : '';
    return { ...base, state: 'warning', statusLine: warnings[0] + more, tooltip: `Lifeboat: warning — ${warnings.join('; ')}` };
  }

  if (jobs.length === 0) return { ...base, state: 'ok', statusLine: 'No backup jobs yet', tooltip: 'Lifeboat: no backup jobs yet (add one with `lifeboat job add`)' };
  if (base.allPaused) {
    // The earliest end of a pause; none when a job is paused until resumed by hand.
    const ends = paused.map((j) => (j.enabled ? j.pausedUntil : null));
    const until = ends.every((e): e is string => e !== null) ? ends.sort()[0] : undefined;
    const line = until ? `Backups paused until ${clock(until, now)}` : 'Backups paused';
    return { ...base, state: 'ok', statusLine: line, tooltip: `Lifeboat: ${line}` };
  }
  const newest = statuses.map((s) => s.lastSuccess?.at).filter((a): a is string => Boolean(a)).sort().pop();
  const line = newest ? `Last backup ${ago(now - Date.parse(newest))} — OK` : 'No backup yet';
  const pausedNote = base.anyPaused ? ` (${paused.length} paused)` : '';
  return { ...base, state: 'ok', statusLine: line + pausedNote, tooltip: `Lifeboat: all good. ${line}${pausedNote}` };
}
