import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { writeLauncher, type AutostartOptions } from './autostart.js';
import { WINDOWS_APP_ID } from './notifier.js';

/** Where the shortcut goes, relative to the user's Start menu "Programs" folder. */
export const TOAST_SHORTCUT = join('Lifeboat', 'Lifeboat.lnk');

export type RunFile = (file: string, args: string[]) => Promise<void>;

const runFile: RunFile = (file, args) => new Promise((resolve, reject) => {
  execFile(file, args, { windowsHide: true, timeout: 30_000 }, (err) => (err ? reject(err) : resolve()));
});

export interface ToastShortcutOptions extends AutostartOptions {
  log: Logger;
  arch?: string;
  run?: RunFile;
}

/**
 * Windows 10 and 11 show a toast only when a Start-menu shortcut carries the toast's app ID; with
 * none, node-notifier's toasts vanish without an error. SnoreToast (the helper node-notifier uses
 * on Windows) creates such a shortcut with `-install`; it points at the launcher, so the Start
 * menu entry also starts Lifeboat in the tray. Done once: an existing shortcut is left alone.
 */
export async function ensureToastShortcut(o: ToastShortcutOptions): Promise<'not-windows' | 'exists' | 'created' | 'failed'> {
  if ((o.platform ?? process.platform) !== 'win32') return 'not-windows';
  const env = o.env ?? process.env;
  const programs = join(env.APPDATA ?? join(o.home, 'AppData', 'Roaming'), 'Microsoft', 'Windows', 'Start Menu', 'Programs');
  const shortcut = join(programs, TOAST_SHORTCUT);
  if (existsSync(shortcut)) return 'exists';
  try {
    const arch = o.arch ?? process.arch;
    const snoretoast = createRequire(import.meta.url).resolve(`node-notifier/vendor/snoreToast/snoretoast-${arch === 'ia32' ? 'x86' : 'x64'}.exe`);
    await (o.run ?? runFile)(snoretoast, ['-install', TOAST_SHORTCUT, writeLauncher(o), WINDOWS_APP_ID]);
    o.log.info({ event: 'toast-shortcut', shortcut }, `Start-menu shortcut for notifications created: ${shortcut}`);
    return 'created';
  } catch (err) {
    o.log.warn({ event: 'toast-shortcut-failed', shortcut, error: (err as Error).message },
      `could not create the Start-menu shortcut Windows needs to show notifications (${(err as Error).message}); backups are not affected`);
    return 'failed';
  }
}
