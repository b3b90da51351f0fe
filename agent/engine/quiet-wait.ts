import { open } from 'node:fs/promises';
import type { SourceDb, JournalFamily } from './source-db.js';

/** First 8 bytes of a rollback journal that holds a transaction (https://sqlite.org/fileformat2.html#the_rollback_journal). */
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/**
 * True while a rollback-journal writer is mid-transaction: its journal then starts with the magic.
 * An idle TRUNCATE journal is empty and an idle PERSIST journal has a zeroed header.
 */
export async function journalActive(dbPath: string): Promise<boolean> {
  try {
    const fh = await open(`${dbPath}-journal`, 'r');
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await fh.read(head, 0, 8, 0);
      return bytesRead === 8 && head.equals(JOURNAL_MAGIC);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

export interface QuietResult {
  quiet: boolean;
  waitedMs: number;
}

/**
 * Waits until nobody has committed for QUIET_MS (seen through `PRAGMA data_version` on our own open
 * connection) and no transaction is open, or until MAX_WAIT_MS have passed. A busy till may never
 * go quiet; the snapshot is safe under writes, so the caller goes ahead either way.
 */
export async function waitForQuiet(
  src: SourceDb,
  family: JournalFamily,
  quietMs: number,
  maxWaitMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<QuietResult> {
  const start = Date.now();
  if (quietMs <= 0) return { quiet: true, waitedMs: 0 };
  const pollMs = Math.min(250, Math.max(20, Math.floor(quietMs / 10)));
  let version = readVersion(src);
  let lastChange = start;
  for (;;) {
    const now = Date.now();
    const midTransaction = family === 'rollback' && (await journalActive(src.path));
    if (midTransaction) lastChange = now;
    else if (now - lastChange >= quietMs) return { quiet: true, waitedMs: now - start };
    if (now - start >= maxWaitMs) return { quiet: false, waitedMs: now - start };
    await sleep(pollMs);
    const v = readVersion(src);
    if (v !== version) {
      version = v;
      lastChange = Date.now();
    }
  }
}

/** A version read that hits a writer's lock counts as a change: somebody is writing. */
function readVersion(src: SourceDb): number {
  try {
    return src.dataVersion();
  } catch {
    return Number.NaN;
  }
}
