import { connect } from 'node:net';
import { encode, lineReader, type Reply, type Request } from './protocol.js';

export class AgentNotRunning extends Error {}

/**
 * Sends one request to the agent and collects its replies until one without `more`.
 * Rejects with AgentNotRunning when nobody listens (no socket, or a stale one).
 */
export function askAgent(endpoint: string, req: Request, opts: { timeoutMs?: number; onReply?: (r: Reply) => void } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = connect(endpoint);
    const timeoutMs = opts.timeoutMs ?? 3000;
    let timer = setTimeout(() => fail(new Error(`the agent did not answer within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    sock.on('connect', () => sock.write(encode(req)));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') fail(new AgentNotRunning(err.message));
      else fail(err);
    });
    sock.on('data', lineReader((msg) => {
      const reply = msg as Reply;
      opts.onReply?.(reply);
      if (reply.more) {
        // Long work (now --wait) keeps the line open: only silence counts, not total time.
        clearTimeout(timer);
        timer = setTimeout(() => fail(new Error('the agent stopped answering')), Math.max(timeoutMs, 600_000));
        return;
      }
      done = true;
      clearTimeout(timer);
      sock.end();
      resolve(reply);
    }));
    sock.on('close', () => fail(new AgentNotRunning('the agent closed the connection')));
  });
}
