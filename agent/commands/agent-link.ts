import { lifeboatHome } from '../config/paths.js';
import { agentEndpoint } from '../ipc/endpoint.js';
import { AgentNotRunning, askAgent } from '../ipc/client.js';
import type { Reply, Request } from '../ipc/protocol.js';

/** Asks the agent of this LIFEBOAT_HOME; null when none is running. */
export async function tellAgent(req: Request, opts: { timeoutMs?: number; onReply?: (r: Reply) => void } = {}): Promise<Reply | null> {
  try {
    return await askAgent(agentEndpoint(lifeboatHome()), req, opts);
  } catch (err) {
    if (err instanceof AgentNotRunning) return null;
    throw err;
  }
}
