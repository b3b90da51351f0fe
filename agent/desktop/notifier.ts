import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from '../log.js';
import { notificationIcon, type TrayState } from './icons.js';

/** One desktop notification. OPEN is what a click shows, where the platform reports clicks. */
export interface Note {
  /** Notes with the same key are rate-limited together (e.g. "failure:pos:busy"). */
  key: string;
  state: TrayState;
  title: string;
  message: string;
  open?: { what: 'log' | 'folder'; path: string };
}

/**
 * What actually shows a note. Resolves once the note is handed to the OS; ON_CLICK runs if the
 * person clicks it (where the platform reports clicks).
 */
export type SendNote = (n: Note & { icon: string; onClick?: () => void }) => Promise<void>;

export interface NotifierOptions {
  log: Logger;
  send?: SendNote;
  /** Opens a folder or file for a clicked note. */
  open?: (path: string) => void;
  /** The same key is shown at most once per this window; the repeats are counted. */
  windowMs?: number;
  now?: () => number;
}

/** The app ID Windows 10/11 need for toasts to show; a Start-menu shortcut must carry the same one. */
export const WINDOWS_APP_ID = 'Lifeboat.Agent';

const require = createRequire(import.meta.url);

/** How long a note stays, in seconds: failures longer, so someone walking past sees them. */
const showFor = (n: Note): number => (n.state === 'error' ? 30 : 10);

const actionLabel = (n: Note): string => (n.open?.what === 'log' ? 'Open log' : 'Open backup folder');

/**
 * node-notifier: terminal-notifier (macOS) or SnoreToast (Windows); on Linux, linuxNotifySend().
 * Loaded on first use: most days nothing is notified, and the idle agent's memory counts.
 */
export const nodeNotifierSend: SendNote = (n) => {
  if (process.platform === 'linux') return linuxNotifySend(n);
  return new Promise((resolve, reject) => {
    // node-notifier has no ESM build; its types do not cover the per-platform options used here.
    const notifier = require('node-notifier') as { notify: (o: Record<string, unknown>, cb: (err: Error | null, response: string, meta?: { activationType?: string }) => void) => void };
    notifier.notify({
      title: n.title,
      message: n.message,
      icon: n.icon,
      appName: 'Lifeboat',
      appID: WINDOWS_APP_ID,
      // Waiting keeps a helper process until the note is clicked or gone; only worth it for a click.
      wait: n.onClick !== undefined,
      timeout: showFor(n),
    }, (err, response, meta) => {
      if (err) return reject(err);
      if (meta?.activationType === 'clicked' || response === 'activate') n.onClick?.();
      resolve();
    });
  });
};

/** notify-send still running this long has handed its note to the server (its id may be buffered). */
const SHOWN_AFTER_MS = 500;
/** A note with a click action keeps its notify-send waiting; past this the click is given up. */
const CLICK_WAIT_MS = 10 * 60_000;

/**
 * Linux: `notify-send` (libnotify), as node-notifier would run it, plus a default action when the
 * note opens something. node-notifier cannot pass `--action`, and without one a click is never
 * reported. With an action notify-send stays until the note is clicked or closed and then prints
 * the action's name. The note counts as shown when notify-send prints its id (`--print-id`) or is
 * still running after half a second (libnotify before 0.8.4 holds the id back until it exits); an
 * id of 0 means no server took it. libnotify before 0.7.10 has no `--action`: the note is then
 * shown without one.
 */
export function linuxNotifySend(n: Note & { icon: string; onClick?: () => void }, command = 'notify-send'): Promise<void> {
  const base = ['--app-name=Lifeboat', `--icon=${n.icon}`, `--urgency=${n.state === 'error' ? 'critical' : 'normal'}`, `--expire-time=${showFor(n) * 1000}`];
  const text = ['--', n.title, n.message];
  if (!n.onClick) return runNotifySend(command, [...base, ...text], () => {});
  const clickable = [...base, '--print-id', `--action=default=${actionLabel(n)}`, ...text];
  return runNotifySend(command, clickable, n.onClick).catch((err: Error) => {
    if (!/unknown option/i.test(err.message)) throw err;
    return runNotifySend(command, [...base, ...text], () => {});
  });
}

function runNotifySend(command: string, args: string[], onClick: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    const shown = (): void => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const shownTimer = setTimeout(shown, SHOWN_AFTER_MS);
    const giveUp = setTimeout(() => child.kill(), CLICK_WAIT_MS);
    giveUp.unref();
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/^[1-9]\d*\n/.test(out)) shown();
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(shownTimer);
      clearTimeout(giveUp);
      reject(e.code === 'ENOENT' ? new Error(`${command} is not installed (Debian and Ubuntu: apt install libnotify-bin)`) : e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(shownTimer);
      clearTimeout(giveUp);
      const lines = out.split('\n').map((l) => l.trim());
      if (code !== 0 && signal === null) return reject(new Error(err.trim() || `${command} exited with code ${code}`));
      if (lines[0] === '0') return reject(new Error(err.trim() || 'no notification server took the note'));
      if (lines.slice(1).includes('default')) onClick();
      shown();
    });
  });
}

/**
 * Failures always reach the person; repeats of the same failure are not shown every minute but
 * counted, and the next note (after the window) says how often it happened. A note that cannot be
 * shown (no notification daemon, helper missing) is logged and never disturbs a backup.
 */
export class Notifier {
  private readonly shown = new Map<string, { at: number; suppressed: number }>();
  private readonly send: SendNote;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly o: NotifierOptions) {
    this.send = o.send ?? nodeNotifierSend;
    this.windowMs = o.windowMs ?? 30 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Shows NOTE unless its key was shown within the window; resolves to whether it was sent. */
  async notify(note: Note): Promise<boolean> {
    const now = this.now();
    const prev = this.shown.get(note.key);
    if (prev && now - prev.at < this.windowMs) {
      prev.suppressed++;
      this.o.log.info({ event: 'notify-suppressed', key: note.key, repeats: prev.suppressed }, `notification not repeated (${prev.suppressed} since the last one shown): ${note.title}`);
      return false;
    }
    let message = note.message;
    if (prev && prev.suppressed > 0) {
      // The one shown then, the ones held back, and this one.
      message += `\n(This happened ${prev.suppressed + 2} times since ${new Date(prev.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.)`;
    }
    this.shown.set(note.key, { at: now, suppressed: 0 });
    try {
      const open = note.open;
      const onClick = open && this.o.open ? (): void => {
        this.o.log.info({ event: 'notification-clicked', key: note.key, open: open.path }, `notification clicked: opening ${open.path}`);
        this.o.open?.(open.path);
      } : undefined;
      await this.send({ ...note, message, icon: notificationIcon(note.state), onClick });
      this.o.log.info({ event: 'notified', key: note.key, title: note.title }, `notification shown: ${note.title}`);
      return true;
    } catch (err) {
      this.o.log.warn({ event: 'notify-failed', key: note.key, title: note.title, error: (err as Error).message }, `could not show a notification (${(err as Error).message.trim()}); the backup itself is not affected`);
      return false;
    }
  }

  /** After a success, the next failure of that job is news again. */
  forget(prefix: string): boolean {
    let had = false;
    for (const key of [...this.shown.keys()]) {
      if (key.startsWith(prefix)) {
        this.shown.delete(key);
        had = true;
      }
    }
    return had;
  }
}
