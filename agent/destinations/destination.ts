import type { ByteProgress } from '../engine/file-ops.js';

/** One stored backup file (or its manifest) at a destination. */
export interface StoredObject {
  name: string;
  bytes: number;
  /** Destination-specific handle (Drive file id); the name for folders. */
  id: string;
}

/**
 * What every place a backup can go offers, and all the pipeline knows of any of them (after
 * restic's backends and Litestream's ReplicaClient): put a file with its checksum, list, read
 * back, delete. One module per kind.
 */
export interface Destination {
  readonly kind: string;
  /** For people: "folder /mnt/nas/backups", "Google Drive Lifeboat/till-1/pos". */
  readonly label: string;
  /** Stores LOCAL_PATH as NAME; resolves only once what landed is known to match SHA256. */
  put(localPath: string, name: string, sha256: string, onProgress?: ByteProgress): Promise<StoredObject>;
  list(): Promise<StoredObject[]>;
  /** Reads NAME back into TO_PATH (a new file). */
  get(name: string, toPath: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** `pos-2026-11-26T230000Z.sqlite`, `…-2.sqlite.gz`, `….sqlite.gz.enc`: the names Lifeboat gives backups. */
const BACKUP_NAME = /^(.+)-(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-\d+)?\.sqlite(?:\.gz)?(?:\.enc)?$/;

export function parseBackupName(name: string): { label: string; time: Date } | null {
  const m = BACKUP_NAME.exec(name);
  if (!m) return null;
  const [, label, y, mo, d, h, mi, s] = m;
  return { label: label ?? '', time: new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))) };
}
