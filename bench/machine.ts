import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import Database from 'better-sqlite3';
import type { MachineInfo } from './types.js';

function sqliteLibraryVersion(): string {
  const db = new Database(':memory:');
  try {
    return String(db.prepare('select sqlite_version()').pluck().get());
  } finally {
    db.close();
  }
}

function commandOutput(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** "ext4 (/dev/vda on /)": df knows the mount a path is on; /proc/mounts is the fallback. */
function fileSystemOf(dir: string): string {
  const df = commandOutput('df', ['--output=fstype,source,target', dir]);
  const row = df?.split('\n')[1]?.trim().split(/\s+/);
  if (row && row.length >= 3) return `${row[0]} (${row[1]} on ${row[2]})`;
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
    const best = mounts
      .filter((m) => m[1] !== undefined && (dir === m[1] || dir.startsWith(m[1].endsWith('/') ? m[1] : `${m[1]}/`)))
      .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0))[0];
    return best ? `${best[2]} (${best[0]} on ${best[1]})` : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(benchDir: string): MachineInfo {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    sqlite: sqliteLibraryVersion(),
    sqliteCli: commandOutput('sqlite3', ['--version'])?.split(' ')[0] ?? 'not found',
    kernel: release(),
    fileSystem: fileSystemOf(benchDir),
    platform: platform(),
  };
}
