import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Unix socket paths are limited to about 104 bytes (macOS) / 108 (Linux). */
const MAX_SOCKET_PATH = 100;

/**
 * Where the agent listens: a Unix socket inside LIFEBOAT_HOME (only the user can reach it), or a
 * named pipe on Windows. A home too deep for a socket path gets a socket in the temp folder
 * named after the home, so each home still has its own agent.
 */
export function agentEndpoint(home: string): string {
  const tag = createHash('sha256').update(home).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\lifeboat-${tag}`;
  const inside = join(home, 'agent.sock');
  return inside.length <= MAX_SOCKET_PATH ? inside : join(tmpdir(), `lifeboat-${tag}.sock`);
}
