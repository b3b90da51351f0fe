import { dirname } from 'node:path';
import type { RunEvent } from '../agent.js';
import type { Note } from './notifier.js';

export interface RunNoteContext {
  jobName: string;
  /** The job's local backup folder, opened by a click on a good-news note. */
  folder: string | undefined;
  logFile: string;
  /** Whether a failure note for this job was showing; asked only for a clean success, since asking clears it. */
  wasFailing: () => boolean;
  notifyOnSuccess: boolean;
  /** The demo's first backup is announced even with success notes off. */
  announce: boolean;
}

/** The notification a finished run deserves, if any: failures and failed copies always, good news when it is news. */
export function noteForRun(e: RunEvent, c: RunNoteContext): Note | null {
  const logOpen = { what: 'log' as const, path: c.logFile };
  if (!e.outcome.ok) {
    const err = e.outcome.error;
    return { key: `failure:${e.jobId}:${err.kind}`, state: 'error', title: `Backup failed: ${c.jobName}`, message: `${err.message}\nWhat to do: ${err.hint || 'see the log.'}\nLog: ${c.logFile}`, open: logOpen };
  }
  const folder = c.folder ?? dirname(e.outcome.result.file);
  const copyProblem = e.outcome.warnings[0];
  if (copyProblem) {
    // Never a silent skip: an off-site copy that failed (e.g. "reconnect Google Drive") is said out loud, with what to do.
    const more = e.outcome.warnings.length > 1 ? `\n(and ${e.outcome.warnings.length - 1} more; see the log)` : '';
    return { key: `copy:${e.jobId}:${copyProblem.slice(0, 60)}`, state: 'warning', title: `Backup made, but a copy failed: ${c.jobName}`, message: `${copyProblem}${more}\nLog: ${c.logFile}`, open: logOpen };
  }
  if (c.wasFailing()) {
    return { key: `recovered:${e.jobId}`, state: 'ok', title: `Backups work again: ${c.jobName}`, message: `A good backup was made: ${e.outcome.result.file}`, open: { what: 'folder', path: folder } };
  }
  if (e.trigger === 'catch-up') {
    return { key: `catch-up:${e.jobId}`, state: 'ok', title: `Missed backup made: ${c.jobName}`, message: 'The PC was off or asleep when a backup was due, so it was made now.', open: { what: 'folder', path: folder } };
  }
  if (c.notifyOnSuccess || c.announce) {
    return { key: `success:${e.jobId}:${Date.now()}`, state: 'ok', title: `Backup OK: ${c.jobName}`, message: `Saved and checked: ${e.outcome.result.file}`, open: { what: 'folder', path: folder } };
  }
  return null;
}
