import { readFile, rename, writeFile } from 'node:fs/promises';
import type { SessionMemory } from './resumable.js';

/** Drive keeps an unfinished resumable session for about a week; an older one is not worth asking about. */
const MAX_AGE_MS = 6 * 24 * 3600_000;

interface Entry {
  uri: string;
  name: string;
  folderId: string;
  savedAt: number;
}

/**
 * The session addresses of unfinished uploads (LIFEBOAT_HOME/drive-uploads.json, 0600: an upload
 * address lets its holder add to the upload), keyed by size and SHA-256, so the next
 * run's retry of a pending upload goes on where this one stopped instead of sending it all again.
 */
export class UploadSessions {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly path: string, private readonly now: () => number = Date.now) {}

  /** The memory of one upload. A session is reused only for the same name in the same folder. */
  forUpload(u: { localPath: string; size: number; sha256: string; name: string; folderId: string }): SessionMemory {
    // Not the path: a gzipped copy is made afresh under a new temp name each run, and the same
    // size and SHA-256 under the same name in the same folder are the same bytes (gzip output is
    // deterministic; an encrypted copy is not, and so always starts a new session).
    const key = JSON.stringify([u.size, u.sha256]);
    return {
      load: async () => {
        const e = (await this.read())[key];
        return e && e.name === u.name && e.folderId === u.folderId ? e.uri : undefined;
      },
      save: (uri) => this.update((all) => {
        all[key] = { uri, name: u.name, folderId: u.folderId, savedAt: this.now() };
      }),
      clear: () => this.update((all) => {
        delete all[key];
      }),
    };
  }

  /** The entries young enough to ask about; a missing or broken file is no entries. */
  private async read(): Promise<Record<string, Entry>> {
    let all: Record<string, Entry>;
    try {
      all = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, Entry>;
    } catch {
      return {};
    }
    return Object.fromEntries(Object.entries(all).filter(([, e]) => typeof e?.uri === 'string' && this.now() - e.savedAt < MAX_AGE_MS));
  }

  /**
   * Read, change, write, one at a time in this process; through a temp file and a rename, so a
   * crash leaves the old file. A failure to write is swallowed: remembering a session saves
   * bandwidth on the next run, and must never fail an upload that is otherwise going well.
   */
  private update(change: (all: Record<string, Entry>) => void): Promise<void> {
    this.queue = this.queue.then(async () => {
      const all = await this.read();
      change(all);
      const tmp = `${this.path}.tmp-${process.pid}`;
      await writeFile(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
      await rename(tmp, this.path);
    }).catch(() => {});
    return this.queue;
  }
}
