import envPaths from 'env-paths';
import { join, resolve } from 'node:path';

/**
 * Where Lifeboat keeps its own files: LIFEBOAT_HOME when set (tests, portable installs, several
 * agents side by side), else the platform's standard data folder (%APPDATA%, ~/Library/Application
 * Support, ~/.local/share).
 */
export function lifeboatHome(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.LIFEBOAT_HOME?.trim();
  if (override) return resolve(override);
  return envPaths('lifeboat', { suffix: '' }).data;
}

export function demoPaths(home = lifeboatHome()): { dir: string; db: string; backups: string } {
  const dir = join(home, 'demo');
  return { dir, db: join(dir, 'demo-pos.sqlite'), backups: join(dir, 'backups') };
}
