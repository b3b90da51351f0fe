/**
 * Node/V8 flags for the long-running agent, which spends its life idle on a till PC. Measured on
 * the idle agent (RSS 75 → 56 MiB), with no change in backup time, because the heavy work (copy,
 * SQLite, hashing, gzip) is native code:
 * - `--max-semi-space-size=1`: V8's young generation is 16 MiB by default; the agent allocates little.
 * - `--optimize-for-size`: V8 trades some speed for smaller heaps and code.
 * - `--v8-pool-size=1`: one V8 helper thread instead of one per core.
 * - `--no-opt`, `--no-sparkplug`: no optimising and no baseline compiler, whose code in the node
 *   binary is then never paged in (about 7 MiB). JavaScript runs interpreted, which the agent's
 *   few hot loops are written for (see the WAL checksum).
 * Not `--jitless` or `--lite-mode`: they remove WebAssembly, which Node's fetch (and so the Google
 * client) needs. These flags are refused in NODE_OPTIONS, so they go on node's command line: the
 * start-at-login launcher, `npm start`, and the benchmark.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size', '--v8-pool-size=1', '--no-opt', '--no-sparkplug'];
