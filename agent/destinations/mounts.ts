import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/** The two Linux mount tables: what should be mounted (fstab) and what is (mountinfo). */
export interface MountTables {
  fstab: string;
  mountinfo: string;
}

/** fstab and mountinfo write a space in a path as \040 (and tab, newline, backslash likewise). */
const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

function configuredMountPoints(fstab: string): string[] {
  const out: string[] = [];
  for (const line of fstab.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [device, point, type] = fields;
    if (!device || device.startsWith('#') || !point?.startsWith('/') || type === 'swap' || point === '/') continue;
    out.push(resolve(unescape(point)));
  }
  return out;
}

function mountedPoints(mountinfo: string): Set<string> {
  return new Set(mountinfo.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => Boolean(p)).map((p) => resolve(unescape(p))));
}

export function linuxMountTables(): MountTables | null {
  if (process.platform !== 'linux') return null;
  try {
    return { fstab: readFileSync('/etc/fstab', 'utf8'), mountinfo: readFileSync('/proc/self/mountinfo', 'utf8') };
  } catch {
    return null;
  }
}

/**
 * The fstab mount point PATH lies under that is not mounted now, if any (the innermost). An
 * unmounted share leaves its mount-point folder behind, empty or holding what was written there
 * while it was down; writing a copy there would put it on the local disk. macOS removes
 * /Volumes/X and Windows has no letter or UNC path for a missing share, so the folder is simply
 * not there; only Linux needs the tables.
 */
export function unmountedMountPoint(path: string, tables: MountTables | null = linuxMountTables()): string | null {
  if (!tables) return null;
  const target = resolve(path);
  const mounted = mountedPoints(tables.mountinfo);
  const under = configuredMountPoints(tables.fstab)
    .filter((m) => target === m || target.startsWith(m + sep))
    .sort((a, b) => b.length - a.length);
  const innermost = under[0];
  return innermost && !mounted.has(innermost) ? innermost : null;
}
