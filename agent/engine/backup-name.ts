import { basename, extname } from 'node:path';

/** `pos.db` → `pos`: a label that is safe in a file name on every OS. */
export function sourceLabel(dbPath: string): string {
  const base = basename(dbPath, extname(dbPath));
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '');
  return safe || 'database';
}

/** 2026-11-26T23:00:00.123Z → 2026-11-26T230000Z: sorts by time, has no ':' (invalid on Windows). */
export function timestampForName(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '');
}

/** `pos-2026-11-26T230000Z.sqlite[.gz]`, with `-2`, `-3`… when a name in the same second exists. */
export function backupFileName(dbPath: string, date: Date, gzip: boolean, taken: (name: string) => boolean): string {
  const stem = `${sourceLabel(dbPath)}-${timestampForName(date)}`;
  const ext = gzip ? '.sqlite.gz' : '.sqlite';
  let name = stem + ext;
  for (let n = 2; taken(name); n++) name = `${stem}-${n}${ext}`;
  return name;
}
