import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Destination as DestinationConfig, Job, Settings } from '../config/job.js';
import { readPassphrase } from '../config/passphrase.js';
import { parseBackupName, type Destination } from '../destinations/destination.js';
import { FolderDestination } from '../destinations/folder.js';
import { describeDestination, destinationKey, openDestination } from '../destinations/registry.js';
import { planRetention, type RetentionPlan } from '../destinations/retention.js';
import { sourceLabel } from '../engine/backup-name.js';
import { encryptFile } from '../engine/crypto.js';
import { LifeboatError } from '../engine/errors.js';
import { sha256File, tempName } from '../engine/file-ops.js';
import { gzipFile } from '../engine/gzip.js';
import { MANIFEST_SUFFIX, readManifest, type Manifest } from '../engine/manifest.js';
import type { BackupProgress } from '../engine/backup-options.js';
import type { History } from './history.js';

export interface CopyContext {
  home: string;
  settings: Settings;
  history: History;
  now: () => number;
  env?: NodeJS.ProcessEnv;
  /** Upload progress, for the tray and the CLI. */
  onProgress?: (p: BackupProgress) => void;
}

const asError = (err: unknown): LifeboatError =>
  err instanceof LifeboatError ? err : new LifeboatError('internal', (err as Error).message ?? String(err), 'Please report this with the log.');

/**
 * Stores one verified local backup at a destination the way it asks for (gzip, encryption),
 * followed by its manifest: at a destination too, a file counts only once its manifest is there.
 */
async function copyOne(dest: Destination, d: DestinationConfig, localFile: string, ctx: CopyContext): Promise<void> {
  const manifest = await readManifest(localFile);
  const temps: string[] = [];
  const temp = (name: string): string => {
    const p = join(dirname(localFile), tempName(name));
    temps.push(p);
    return p;
  };
  try {
    let path = localFile;
    let name = basename(localFile);
    let compression = manifest.compression;
    if (d.gzip && compression === 'none') {
      const gz = temp(`${name}.gz`);
      await gzipFile(path, gz);
      path = gz;
      name += '.gz';
      compression = 'gzip';
    }
    if (d.encrypt) {
      const enc = temp(`${name}.enc`);
      await encryptFile(path, enc, readPassphrase(ctx.home, undefined, ctx.env));
      path = enc;
      name += '.enc';
    }
    const digest = await sha256File(path);
    await dest.put(path, name, digest.sha256, (done, total) => ctx.onProgress?.({ phase: 'uploading', done, total, message: dest.label }));
    const copy: Manifest = { ...manifest, file: name, bytes: digest.bytes, sha256: digest.sha256, compression, encryption: d.encrypt ? 'aes-256-gcm' : 'none' };
    const manifestTmp = temp(`${name}${MANIFEST_SUFFIX}`);
    await writeFile(manifestTmp, JSON.stringify(copy, null, 2) + '\n');
    const mDigest = await sha256File(manifestTmp);
    await dest.put(manifestTmp, `${name}${MANIFEST_SUFFIX}`, mDigest.sha256);
  } finally {
    await Promise.all(temps.map((p) => rm(p, { force: true })));
  }
}

/**
 * Copies the new backup to every destination after the first, and first retries copies that
 * failed on earlier runs (kept as pending uploads), so a flaky line catches up without a new
 * snapshot. A failed copy is a warning: the local backup still counts. Returns the warnings.
 */
export async function copyToDestinations(job: Job, localFile: string, ctx: CopyContext): Promise<string[]> {
  const warnings: string[] = [];
  for (const d of job.destinations.slice(1)) {
    const key = destinationKey(d);
    const files = [...ctx.history.pendingUploads(job.id).filter((p) => p.destination === key && p.file !== localFile).map((p) => p.file), localFile];
    let dest: Destination;
    try {
      dest = await openDestination(d, job, ctx);
    } catch (err) {
      const e = asError(err);
      for (const f of files) ctx.history.uploadFailed(job.id, key, f, e.toLine(), ctx.now());
      warnings.push(`Copy to ${describeDestination(d)} failed: ${e.toLine()}`);
      continue;
    }
    for (const f of files) {
      if (!existsSync(f)) {
        ctx.history.dropUpload(job.id, key, f);
        continue;
      }
      try {
        await copyOne(dest, d, f, ctx);
        ctx.history.uploadDone(job.id, key, f, ctx.now());
      } catch (err) {
        const e = asError(err);
        ctx.history.uploadFailed(job.id, key, f, e.toLine(), ctx.now());
        warnings.push(`Copy of ${basename(f)} to ${describeDestination(d)} failed: ${e.toLine()}`);
      }
    }
  }
  return warnings;
}

export interface PruneReport {
  destination: string;
  plan: RetentionPlan;
  removed: string[];
  error: string | null;
}

/**
 * Retention for every destination of a job. Only this job's backups are considered, matched by
 * name and by their manifest: a file without a Lifeboat manifest beside it is never deleted.
 */
export async function pruneJob(job: Job, ctx: CopyContext, opts: { dryRun: boolean }): Promise<PruneReport[]> {
  const reports: PruneReport[] = [];
  const label = sourceLabel(job.db);
  const pendingLocal = new Set(ctx.history.pendingUploads(job.id).map((p) => basename(p.file)));
  for (const [i, d] of job.destinations.entries()) {
    const report: PruneReport = { destination: describeDestination(d), plan: { keep: [], remove: [] }, removed: [], error: null };
    reports.push(report);
    try {
      const dest = i === 0 ? new FolderDestination(job.destinations[0].path) : await openDestination(d, job, ctx);
      const objects = await dest.list();
      const names = new Set(objects.map((o) => o.name));
      const candidates = [];
      for (const o of objects) {
        const parsed = parseBackupName(o.name);
        if (!parsed || parsed.label !== label || !names.has(`${o.name}${MANIFEST_SUFFIX}`)) continue;
        let verified = true;
        if (i === 0) {
          const m = await readFile(join(job.destinations[0].path, `${o.name}${MANIFEST_SUFFIX}`), 'utf8').then((t) => JSON.parse(t) as Manifest).catch(() => null);
          verified = m?.format === 'lifeboat-backup' && m.check.ok;
        }
        candidates.push({ name: o.name, time: parsed.time, verified, pending: i === 0 && pendingLocal.has(o.name) });
      }
      report.plan = planRetention(candidates, d.retention ?? job.retention, new Date(ctx.now()));
      if (!opts.dryRun) {
        for (const name of report.plan.remove) {
          await dest.delete(name);
          await dest.delete(`${name}${MANIFEST_SUFFIX}`).catch(() => {});
          report.removed.push(name);
        }
      }
    } catch (err) {
      report.error = asError(err).toLine();
    }
  }
  return reports;
}
