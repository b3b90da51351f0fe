/** What tools/pos-writer prints on SIGTERM; read by the tests and the benchmark. */
export interface WriterStats {
  commits: number;
  busy: number;
  otherErrors: number;
  lastError: string;
  maxCommitMs: number;
  p99CommitMs: number;
  p50CommitMs: number;
}
