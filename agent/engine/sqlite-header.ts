import { open } from 'node:fs/promises';

/** The 16 bytes every SQLite 3 database file starts with. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
export const HEADER_SIZE = 100;

/** Offsets in the 100-byte database header (https://sqlite.org/fileformat2.html#the_database_header). */
const PAGE_SIZE_OFFSET = 16;
const WRITE_VERSION_OFFSET = 18;
const READ_VERSION_OFFSET = 19;

export type HeaderKind = 'sqlite' | 'empty' | 'text' | 'unknown';

export interface HeaderInfo {
  kind: HeaderKind;
  /** Page size in bytes when kind is 'sqlite'. */
  pageSize?: number;
  /** True when the header says the database is in WAL mode (file format versions 2/2). */
  walFormat?: boolean;
}

export function classifyHeader(head: Buffer): HeaderInfo {
  if (head.length === 0) return { kind: 'empty' };
  if (head.length >= SQLITE_MAGIC.length && head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    const raw = head.length >= PAGE_SIZE_OFFSET + 2 ? head.readUInt16BE(PAGE_SIZE_OFFSET) : 0;
    const pageSize = raw === 1 ? 65536 : raw;
    return { kind: 'sqlite', pageSize, walFormat: head[WRITE_VERSION_OFFSET] === 2 };
  }
  return { kind: looksLikeText(head) ? 'text' : 'unknown' };
}

function looksLikeText(buf: Buffer): boolean {
  const sample = buf.subarray(0, 512);
  let printable = 0;
  for (const byte of sample) {
    if (byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127) || byte >= 0xc2) printable++;
    else if (byte === 0) return false;
  }
  return printable / sample.length > 0.95;
}

export async function readHeader(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await fh.read(buf, 0, HEADER_SIZE, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Marks a database file as rollback-journal (1) or WAL (2) format by its two header bytes: the
 * same two bytes `PRAGMA journal_mode` flips. A backup is stored in rollback format so it is one
 * self-contained file; restore puts back the format the source had.
 */
export function setFileFormat(header: Buffer, format: 1 | 2): void {
  header[WRITE_VERSION_OFFSET] = format;
  header[READ_VERSION_OFFSET] = format;
}
