import { stat } from 'node:fs/promises';
import { LifeboatError, errnoCode } from './errors.js';
import { classifyHeader, readHeader, type HeaderInfo } from './sqlite-header.js';

/**
 * Checks that PATH is a plain SQLite database before SQLite opens it, so each kind of wrong
 * input gets a message that says what it is and what to do, instead of "file is not a database".
 */
export async function checkSourceFile(path: string, what = 'Database'): Promise<HeaderInfo & { size: number }> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new LifeboatError('source', `${what} not found: ${path}.`,
        'Check the path (the POS app\'s settings or data folder show where its database is).');
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new LifeboatError('source', `${what} ${path} cannot be read (permission denied).`,
        'Run Lifeboat as a user who can read the database, or fix the file\'s permissions.');
    }
    throw new LifeboatError('source', `${what} ${path} cannot be read: ${(err as Error).message}.`, 'Check the path and try again.');
  }
  if (st.isDirectory()) {
    throw new LifeboatError('source', `${path} is a folder, not a database file.`,
      'Point at the database file inside it (often ending in .db, .sqlite or .sqlite3).');
  }
  if (!st.isFile()) {
    throw new LifeboatError('source', `${path} is not a regular file.`, 'Point at the database file itself.');
  }
  let head: Buffer;
  try {
    head = await readHeader(path);
  } catch (err) {
    throw new LifeboatError('source', `${what} ${path} cannot be read: ${(err as Error).message}.`,
      'Run Lifeboat as a user who can read the database, or fix the file\'s permissions.');
  }
  const info = classifyHeader(head);
  switch (info.kind) {
    case 'empty':
      throw new LifeboatError('source', `${path} is empty (0 bytes), so there is nothing to back up.`,
        'Check the path: the POS app may keep its real database elsewhere, or has not created it yet.');
    case 'text':
      throw new LifeboatError('source', `${path} is a text file, not a SQLite database.`,
        'Point at the database file itself, not a log, export or settings file.');
    case 'unknown':
      throw new LifeboatError('source', `${path} is not a plain SQLite database (its header is unknown; it may be encrypted, e.g. with SQLCipher).`,
        'Lifeboat backs up unencrypted SQLite files only; check the path or ask the POS vendor how to back up an encrypted database.');
    case 'sqlite':
      if (st.size < 512) {
        throw new LifeboatError('source', `${path} starts like a SQLite database but is cut short (${st.size} bytes).`,
          'The file is damaged; restore it from an earlier backup.');
      }
      return { ...info, size: st.size };
  }
}
