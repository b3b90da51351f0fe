import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { canonicalPath } from '../config/paths.js';

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

const within = (path: string, point: string): boolean => path === point || point === sep || path.startsWith(point + sep);
const innermost = (points: string[], path: string): string | undefined => points.filter((p) => within(path, p)).sort((a, b) => b.length - a.length)[0];

/**
 * The fstab mount point PATH lies under that is not mounted now, if any. An unmounted share
 * leaves its mount-point folder behind, empty or holding what was written there while it was
 * down; writing a copy there would put it on the local disk. It counts only when no mount that
 * does contain PATH lies as deep (a share mounted by hand at /mnt/nas under an fstab /mnt that is
 * not mounted is fine). macOS removes /Volumes/X and Windows has no letter or UNC path for a
 * missing share, so the folder is simply not there; only Linux needs the tables.
 */
export function unmountedMountPoint(path: string, tables: MountTables | null = linuxMountTables()): string | null {
  if (!tables) return null;
  const target = canonicalPath(path);
  const configured = innermost(configuredMountPoints(tables.fstab).map(canonicalPath), target);
  if (!configured) return null;
  const mounted = innermost([...mountedPoints(tables.mountinfo)], target);
  return mounted !== undefined && mounted.length >= configured.length ? null : configured;
}
