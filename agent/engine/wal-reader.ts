import { open, type FileHandle } from 'node:fs/promises';
import { errnoCode } from './errors.js';

/**
 * Reads a SQLite write-ahead log the way SQLite's own recovery does
 * (https://sqlite.org/fileformat2.html#the_write_ahead_log): frames count only while their salts
 * match the header and the running checksum holds, and only up to the last commit frame. The
 * result says, for each page, where its newest committed version sits in the log.
 */

const WAL_HEADER_SIZE = 32;
const FRAME_HEADER_SIZE = 24;
const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;
const FRAMES_PER_READ = 256;

export interface FrameRef {
  /** Byte offset of the frame header in the log. */
  offset: number;
  salt1: number;
  salt2: number;
  cksum1: number;
  cksum2: number;
}

export interface WalIndex {
  pageSize: number;
  /** Number of frames up to and including the last valid commit frame. */
  committedFrames: number;
  /** Database size in pages after the last commit in the log (0 when the log has no commit). */
  dbPages: number;
  /** Page number → its newest committed frame. */
  pages: Map<number, FrameRef>;
}

const EMPTY = (pageSize: number): WalIndex => ({ pageSize, committedFrames: 0, dbPages: 0, pages: new Map() });

const LITTLE_ENDIAN_CPU = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * SQLite's WAL checksum over 32-bit words in the log's byte order. When that is the CPU's own (a
 * log written on x86 or ARM, read on one) the words are read through a typed array: the agent
 * runs without V8's optimising compiler (agent/node-flags.ts), and this loop is then about 4x
 * faster than one Buffer.readUInt32LE call per word.
 */
export function checksum(buf: Buffer, start: number, end: number, bigEndian: boolean, s0In: number, s1In: number): [number, number] {
  let s0 = s0In;
  let s1 = s1In;
  if (bigEndian !== LITTLE_ENDIAN_CPU && (buf.byteOffset + start) % 4 === 0) {
    const words = new Uint32Array(buf.buffer, buf.byteOffset + start, (end - start) / 4);
    for (let i = 0; i < words.length; i += 2) {
      s0 = (s0 + (words[i] as number) + s1) >>> 0;
      s1 = (s1 + (words[i + 1] as number) + s0) >>> 0;
    }
    return [s0, s1];
  }
  for (let i = start; i < end; i += 8) {
    const a = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const b = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s0 = (s0 + a + s1) >>> 0;
    s1 = (s1 + b + s0) >>> 0;
  }
  return [s0, s1];
}

export async function readWalIndex(walPath: string, expectedPageSize: number): Promise<WalIndex> {
  let fh: FileHandle;
  try {
    fh = await open(walPath, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return EMPTY(expectedPageSize);
    throw err;
  }
  try {
    const header = Buffer.alloc(WAL_HEADER_SIZE);
    const { bytesRead } = await fh.read(header, 0, WAL_HEADER_SIZE, 0);
    if (bytesRead < WAL_HEADER_SIZE) return EMPTY(expectedPageSize);
    const magic = header.readUInt32BE(0);
    if (magic !== MAGIC_LE && magic !== MAGIC_BE) return EMPTY(expectedPageSize);
    const bigEndian = magic === MAGIC_BE;
    const pageSize = header.readUInt32BE(8);
    const salt1 = header.readUInt32BE(16);
    const salt2 = header.readUInt32BE(20);
    let [s0, s1] = checksum(header, 0, 24, bigEndian, 0, 0);
    // A log whose header does not check out is ignored by SQLite; so do we.
    if (s0 !== header.readUInt32BE(24) || s1 !== header.readUInt32BE(28)) return EMPTY(expectedPageSize);
    if (pageSize !== expectedPageSize) {
      throw new Error(`write-ahead log page size ${pageSize} differs from the database page size ${expectedPageSize}`);
    }

    const index = EMPTY(pageSize);
    const frameSize = FRAME_HEADER_SIZE + pageSize;
    const pending = new Map<number, FrameRef>();
    const chunk = Buffer.alloc(frameSize * FRAMES_PER_READ);
    let frameNo = 0;
    let offset = WAL_HEADER_SIZE;
    for (;;) {
      const { bytesRead: got } = await fh.read(chunk, 0, chunk.length, offset);
      const whole = Math.floor(got / frameSize);
      for (let f = 0; f < whole; f++) {
        const base = f * frameSize;
        const pgno = chunk.readUInt32BE(base);
        const dbPages = chunk.readUInt32BE(base + 4);
        if (pgno === 0 || chunk.readUInt32BE(base + 8) !== salt1 || chunk.readUInt32BE(base + 12) !== salt2) return index;
        [s0, s1] = checksum(chunk, base, base + 8, bigEndian, s0, s1);
        [s0, s1] = checksum(chunk, base + FRAME_HEADER_SIZE, base + frameSize, bigEndian, s0, s1);
        if (s0 !== chunk.readUInt32BE(base + 16) || s1 !== chunk.readUInt32BE(base + 20)) return index;
        frameNo++;
        pending.set(pgno, { offset: offset + base, salt1, salt2, cksum1: s0, cksum2: s1 });
        if (dbPages !== 0) {
          for (const [p, ref] of pending) index.pages.set(p, ref);
          pending.clear();
          index.committedFrames = frameNo;
          index.dbPages = dbPages;
        }
      }
      if (whole < FRAMES_PER_READ) return index;
      offset += whole * frameSize;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Reads one frame's page as the index saw it. The page is read before its frame header: SQLite
 * writes a frame's header before its page, so an unchanged header read afterwards proves the page
 * was not overwritten in between (a log restart changes the salts).
 */
export async function readFramePage(fh: FileHandle, ref: FrameRef, pageSize: number, page: Buffer): Promise<boolean> {
  const { bytesRead } = await fh.read(page, 0, pageSize, ref.offset + FRAME_HEADER_SIZE);
  if (bytesRead !== pageSize) return false;
  const head = Buffer.alloc(FRAME_HEADER_SIZE);
  const { bytesRead: h } = await fh.read(head, 0, FRAME_HEADER_SIZE, ref.offset);
  return h === FRAME_HEADER_SIZE
    && head.readUInt32BE(8) === ref.salt1 && head.readUInt32BE(12) === ref.salt2
    && head.readUInt32BE(16) === ref.cksum1 && head.readUInt32BE(20) === ref.cksum2;
}
