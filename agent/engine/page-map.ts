import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Who owns which page of a database file, read from the b-tree interior pages and the freelist
 * only (about 1 % of a typical file), without SQLite.
 *
 * `PRAGMA quick_check(TABLE)` lets two threads check a big database in about half the time, but
 * a check limited to some tables skips the checks that need the whole file: that the freelist is
 * sound, that no page is used twice by different b-trees or by a b-tree and the freelist, and
 * that every page is used. A copy torn between two states of the database shows exactly that (a
 * page freed in one state and reused in the other), so this module does those checks for the
 * parallel quick check, as far as interior pages, leaf pages and the freelist go; the caller
 * runs the whole-file check instead where some pages are left unaccounted for (overflow pages).
 * It also counts each b-tree's pages, which is how the tables are shared out between threads.
 *
 * File format: https://sqlite.org/fileformat2.html
 */

export interface PageMap {
  pageSize: number;
  pageCount: number;
  /** Pages under each root page (interior and leaf pages, not overflow pages). */
  treePages: Map<number, number>;
  freelistPages: number;
  /**
   * Pages neither in a b-tree's interior or leaf levels, nor on the freelist, nor the lock-byte
   * page: overflow pages, or pages lost to nothing. The map does not follow overflow chains (that
   * would mean reading every leaf), so where there are any, only the whole-file check is complete.
   */
  unaccountedPages: number;
  /** Auto-vacuum databases have pointer-map pages, which only the whole-file check verifies. */
  autoVacuum: boolean;
  /** Problems found, in words close to SQLite's own; empty when sound. */
  problems: string[];
}

const MAX_PROBLEMS = 20;
const LOCK_BYTE_OFFSET = 0x40000000;

const TABLE_INTERIOR = 0x05;
const INDEX_INTERIOR = 0x02;
const TABLE_LEAF = 0x0d;
const INDEX_LEAF = 0x0a;

/** Reads page numbers off PATH for the b-trees rooted at ROOTS (page 1, sqlite_schema, is added). */
export function mapPages(path: string, roots: number[]): PageMap {
  const fd = openSync(path, 'r');
  try {
    return new Mapper(fd, fstatSync(fd).size).run(roots);
  } finally {
    closeSync(fd);
  }
}

class Mapper {
  private readonly head = Buffer.alloc(100);
  private page: Buffer = Buffer.alloc(0);
  private pageSize = 0;
  private pageCount = 0;
  /** 0 = not seen; otherwise the root page of the owner, or -1 for the freelist. */
  private owner = new Int32Array(0);
  private readonly problems: string[] = [];

  constructor(private readonly fd: number, private readonly fileSize: number) {}

  run(roots: number[]): PageMap {
    if (readSync(this.fd, this.head, 0, 100, 0) < 100) return this.fail('file shorter than a database header');
    const raw = this.head.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    if (this.pageSize < 512 || (this.pageSize & (this.pageSize - 1)) !== 0) return this.fail(`bad page size ${raw}`);
    // The header's page count is only valid when written by a version that maintains it.
    const inHeader = this.head.readUInt32BE(28);
    const valid = inHeader > 0 && this.head.readUInt32BE(24) === this.head.readUInt32BE(92);
    this.pageCount = valid ? inHeader : Math.floor(this.fileSize / this.pageSize);
    if (this.pageCount * this.pageSize > this.fileSize) return this.fail(`file holds ${Math.floor(this.fileSize / this.pageSize)} pages, the header says ${this.pageCount}`);
    this.page = Buffer.alloc(this.pageSize);
    this.owner = new Int32Array(this.pageCount + 1);
    const lockPage = Math.floor(LOCK_BYTE_OFFSET / this.pageSize) + 1;
    if (lockPage <= this.pageCount) this.owner[lockPage] = -2;

    const treePages = new Map<number, number>();
    for (const root of [1, ...roots.filter((r) => r !== 1)]) treePages.set(root, this.walkTree(root));
    const freelistPages = this.walkFreelist();
    let unaccountedPages = 0;
    for (let p = 1; p <= this.pageCount; p++) if (this.owner[p] === 0) unaccountedPages++;
    const autoVacuum = this.head.readUInt32BE(52) !== 0;
    return { pageSize: this.pageSize, pageCount: this.pageCount, treePages, freelistPages, unaccountedPages, autoVacuum, problems: this.problems };
  }

  private fail(problem: string): PageMap {
    return { pageSize: this.pageSize, pageCount: this.pageCount, treePages: new Map(), freelistPages: 0, unaccountedPages: 0, autoVacuum: false, problems: [problem] };
  }

  private problem(text: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(text);
  }

  private what(owner: number): string {
    if (owner === -1) return 'the freelist';
    if (owner === -2) return 'the lock-byte page';
    return `the b-tree at page ${owner}`;
  }

  /** Marks PGNO as OWNER's; false (and a problem) when it is out of range or already taken. */
  private claim(pgno: number, owner: number, from: string): boolean {
    if (pgno < 1 || pgno > this.pageCount) {
      this.problem(`invalid page number ${pgno} in ${from}`);
      return false;
    }
    const before = this.owner[pgno] ?? 0;
    if (before !== 0) {
      this.problem(`page ${pgno} is used by both ${this.what(before)} and ${from}`);
      return false;
    }
    this.owner[pgno] = owner;
    return true;
  }

  private read(pgno: number): Buffer {
    readSync(this.fd, this.page, 0, this.pageSize, (pgno - 1) * this.pageSize);
    return this.page;
  }

  /** Claims every interior and leaf page of the b-tree at ROOT; returns how many. */
  private walkTree(root: number): number {
    const from = this.what(root);
    if (!this.claim(root, root, from)) return 0;
    let count = 1;
    let level = [root];
    // Level by level: interior pages are read, leaf pages only claimed from their parent's
    // pointers. All leaves of a b-tree are at the same depth, so one leaf ends the walk; a leaf
    // level that is not all leaves is a broken tree, which SQLite's check of the table reports.
    while (level.length > 0 && this.problems.length < MAX_PROBLEMS) {
      const next: number[] = [];
      for (const pgno of level) {
        const page = this.read(pgno);
        const at = pgno === 1 ? 100 : 0;
        const type = page[at];
        if (type === TABLE_LEAF || type === INDEX_LEAF) return count;
        if (type !== TABLE_INTERIOR && type !== INDEX_INTERIOR) {
          this.problem(`page ${pgno} of ${from} is not a b-tree page (type ${type})`);
          continue;
        }
        const cells = page.readUInt16BE(at + 3);
        const children = [page.readUInt32BE(at + 8)];
        for (let i = 0; i < cells; i++) {
          const ptrAt = at + 12 + 2 * i;
          if (ptrAt + 2 > this.pageSize) break;
          const cell = page.readUInt16BE(ptrAt);
          if (cell + 4 > this.pageSize) {
            this.problem(`cell ${i} of page ${pgno} lies outside the page`);
            continue;
          }
          children.push(page.readUInt32BE(cell));
        }
        for (const child of children) {
          if (this.claim(child, root, from)) {
            count++;
            next.push(child);
          }
        }
      }
      level = next;
    }
    return count;
  }

  /** Claims the freelist's trunk and leaf pages and checks their count against the header's. */
  private walkFreelist(): number {
    const expected = this.head.readUInt32BE(36);
    let trunk = this.head.readUInt32BE(32);
    let seen = 0;
    const maxLeaves = this.pageSize / 4 - 2;
    while (trunk !== 0 && this.problems.length < MAX_PROBLEMS) {
      if (!this.claim(trunk, -1, 'the freelist')) break;
      seen++;
      const page = this.read(trunk);
      const next = page.readUInt32BE(0);
      const leaves = page.readUInt32BE(4);
      if (leaves > maxLeaves) {
        this.problem(`freelist trunk page ${trunk} claims ${leaves} leaves, more than fit`);
        break;
      }
      for (let i = 0; i < leaves; i++) {
        if (this.claim(page.readUInt32BE(8 + 4 * i), -1, 'the freelist')) seen++;
      }
      trunk = next;
    }
    if (seen !== expected && this.problems.length === 0) this.problem(`freelist holds ${seen} pages, the header says ${expected}`);
    return seen;
  }
}
