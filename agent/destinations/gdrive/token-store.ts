import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials } from 'google-auth-library';

/**
 * The Drive tokens, in LIFEBOAT_HOME/drive-token.json, readable by this user only (0600, set
 * when the file is created, so it is never readable by others even for a moment). Never logged.
 */
export class TokenStore {
  readonly path: string;

  constructor(home: string) {
    this.path = join(home, 'drive-token.json');
  }

  read(): Credentials | null {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as Credentials;
    } catch {
      return null;
    }
  }

  /** Merges new tokens in: a refresh returns an access token without repeating the refresh token. */
  write(tokens: Credentials): void {
    const merged = { ...(this.read() ?? {}), ...tokens };
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(merged, null, 2), { mode: 0o600 });
    if (process.platform !== 'win32') chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}
