import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { FakeDrive } from '../tools/fake-drive.js';
import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';

/**
 * A multi-GiB resumable upload through the real Google client libraries to the local Drive
 * stand-in on 127.0.0.1: wall time, and how much the uploading process's RSS grows (goal: flat,
 * under +64 MiB for 1 GiB). The uploader runs in its own process so the server's memory does not count.
 */
export interface DriveUploadResult {
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  growthMiB: number;
}

const CHILD = fileURLToPath(new URL('./drive-upload-child.js', import.meta.url));

async function makeFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const block = randomBytes(8 << 20);
  for (let done = 0; done < bytes; done += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - done)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

export async function measureDriveUpload(bytes = 1 << 30): Promise<DriveUploadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-drive-'));
  const fake = new FakeDrive(false);
  try {
    const url = await fake.start();
    const file = join(dir, 'pos-2026-11-26T230000Z.sqlite');
    await makeFile(file, bytes);
    const out = await new Promise<string>((resolve, reject) => {
      // With the agent's own Node flags: the agent is what uploads.
      const c = spawn(process.execPath, [...AGENT_NODE_FLAGS, CHILD, url, file, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let s = '';
      c.stdout.on('data', (d: Buffer) => (s += d.toString()));
      c.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`upload child exited ${code}`))));
    });
    return JSON.parse(out) as DriveUploadResult;
  } finally {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mib = Number(process.argv[2] ?? 1024);
  measureDriveUpload(mib << 20).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
