/** Newline-delimited JSON between the CLI and the running agent: one request, one or more replies. */
export type Request =
  | { cmd: 'ping' }
  | { cmd: 'status' }
  | { cmd: 'now'; job?: string; wait?: boolean }
  | { cmd: 'reload' }
  | { cmd: 'quit' };

export interface Reply {
  ok: boolean;
  /** A reply that more will follow (e.g. "queued" before "done" of `now --wait`). */
  more?: boolean;
  [key: string]: unknown;
}

export function encode(msg: unknown): string {
  return JSON.stringify(msg) + '\n';
}

/** Splits a byte stream into JSON messages. */
export function lineReader(onMessage: (msg: unknown) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      try {
        onMessage(JSON.parse(line));
      } catch {
        // A garbled line from a client is ignored; the connection stays usable.
      }
    }
    if (buf.length > 1 << 20) buf = '';
  };
}
