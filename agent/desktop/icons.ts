import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the tray icon says at a glance. */
export type TrayState = 'ok' | 'running' | 'warning' | 'error';

/**
 * assets/ sits at the package root: two levels up from agent/desktop in the sources (tests run
 * them directly), three from dist/agent/desktop when built.
 */
export function assetsDir(): string {
  const candidates = ['../../assets/', '../../../assets/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((d) => existsSync(join(d, 'ok-32.png'))) ?? (candidates[0] as string);
}

/**
 * The icon file for STATE on this platform: ICO for the Windows tray, a black "template" image that
 * macOS recolours for a dark or light menu bar, and a PNG elsewhere. 32 px: GTK scales it down to
 * the panel's 16-24 px, and halving keeps the drawing crisp.
 */
export function trayIcon(state: TrayState, platform: NodeJS.Platform = process.platform): { path: string; isTemplate: boolean } {
  const dir = assetsDir();
  if (platform === 'win32') return { path: join(dir, `${state}.ico`), isTemplate: false };
  if (platform === 'darwin') return { path: join(dir, `${state}Template@2x.png`), isTemplate: true };
  return { path: join(dir, `${state}-32.png`), isTemplate: false };
}

/** A larger picture for notifications. */
export function notificationIcon(state: TrayState): string {
  return join(assetsDir(), `${state}-64.png`);
}
