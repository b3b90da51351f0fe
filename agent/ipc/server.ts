import { chmodSync, renameSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { AgentNotRunning, askAgent } from './client.js';
import { encode, lineReader, type Reply, type Request } from './protocol.js';

export type Handler = (req: Request, reply: (r: Reply) => void) => void;

export type ListenResult = { server: Server } | { alreadyRunning: Reply };

function listenOnce(endpoint: string, onConnection: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConnection);
    // Only this user may connect: the socket is created with no group/other bits at all.
    const oldMask = process.platform === 'win32' ? null : process.umask(0o077);
    server.once('error', (err) => {
      if (oldMask !== null) process.umask(oldMask);
      reject(err);
    });
    server.listen(endpoint, () => {
      if (oldMask !== null) process.umask(oldMask);
      if (process.platform !== 'win32') chmodSync(endpoint, 0o600);
      resolve(server);
    });
  });
}

/**
 * The agent's channel and its one-instance lock in one: binding the socket path succeeds for
 * exactly one process. A path that is taken but where nobody answers is a crashed agent's stale
 * socket: it is renamed away (only one process can win that rename) and the bind is tried again.
 */
export async function listenSingleInstance(endpoint: string, handler: Handler): Promise<ListenResult> {
  const onConnection = (sock: Socket): void => {
    sock.on('error', () => sock.destroy());
    sock.on('data', lineReader((msg) => {
      handler(msg as Request, (r) => {
        if (!sock.writable) return;
        sock.write(encode(r));
        if (!r.more) sock.end();
      });
    }));
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return { server: await listenOnce(endpoint, onConnection) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
    try {
      return { alreadyRunning: await askAgent(endpoint, { cmd: 'ping' }, { timeoutMs: 2000 }) };
    } catch (err) {
      if (!(err instanceof AgentNotRunning)) throw new Error(`Another agent holds ${endpoint} but does not answer (${(err as Error).message}); stop it first.`);
      if (process.platform !== 'win32') {
        try {
          renameSync(endpoint, `${endpoint}.stale-${process.pid}-${attempt}`);
        } catch {
          // Another starting agent renamed it first; the next bind decides between us.
        }
      }
    }
  }
  throw new Error(`Could not take ${endpoint} after several tries.`);
}
