import { realpathSync } from 'node:fs';
import envPaths from 'env-paths';
import { basename, dirname, join, resolve } from 'node:path';

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

/**
 * PATH with symlinks resolved as far as it exists (a missing file or folder keeps the rest of its
 * name), in the file system's own spelling: /media/nas linking to /run/media/nas, or a relative
 * path, names the same place as the real one.
 */
export function canonicalPath(path: string): string {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(realpathSync.native(at), ...missing.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return resolve(path);
      missing.push(basename(at));
      at = up;
    }
  }
}

/** Equal for two spellings of one file or folder: canonical, and case-folded where the file system folds case. */
export function pathKey(path: string): string {
  const real = canonicalPath(path);
  return process.platform === 'win32' || process.platform === 'darwin' ? real.toLowerCase() : real;
}
