import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Destination as DestinationConfig, Job, Settings } from '../config/job.js';
import { readPassphrase } from '../config/passphrase.js';
import { pathKey } from '../config/paths.js';
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
  /** The ids of the jobs in the config: a backup made by a job that was removed since is anyone's of its database. */
  jobIds?: () => string[];
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
 * At most this many backups wait for a copy at one destination. A Drive that stays disconnected
 * for weeks would otherwise keep every local backup from being pruned until the disk is full;
 * and once the line is back, the newest backups are the ones worth sending.
 */
export const MAX_PENDING_PER_DESTINATION = 3;

/** The warning a failed copy leaves on its run: which file, where, what went wrong and what to do. */
export function copyWarning(file: string | null, label: string, err: LifeboatError): string {
  return `Copy ${file ? `of ${basename(file)} ` : ''}to ${label} failed: ${err.toLine()}`;
}

const backupTime = (file: string): number => parseBackupName(basename(file))?.time.getTime() ?? 0;

/** The pending copies for one destination, newest first, trimmed to the cap (the rest are given up on, with a warning). */
function pendingFor(job: Job, key: string, label: string, localFile: string | null, ctx: CopyContext, warnings: string[]): string[] {
  const pending = ctx.history.pendingUploads(job.id).filter((p) => p.destination === key && p.file !== localFile)
    .map((p) => p.file).sort((a, b) => backupTime(b) - backupTime(a));
  const room = MAX_PENDING_PER_DESTINATION - (localFile ? 1 : 0);
  for (const f of pending.slice(room)) {
    ctx.history.dropUpload(job.id, key, f);
    warnings.push(`Gave up copying ${basename(f)} to ${label}: newer backups are waiting to go there first.`);
  }
  return pending.slice(0, room).reverse();
}

/**
 * Copies the new backup (if any: a run whose snapshot failed still retries the waiting copies) to
 * every destination after the first, and first retries copies that failed on earlier runs (kept
 * as pending uploads), so a flaky line catches up without a new snapshot. A failed copy is a
 * warning: the local backup still counts. Returns the warnings.
 */
export async function copyToDestinations(job: Job, localFile: string | null, ctx: CopyContext): Promise<string[]> {
  const warnings: string[] = [];
  for (const d of job.destinations.slice(1)) {
    const key = destinationKey(d);
    const label = describeDestination(d);
    const files = [...pendingFor(job, key, label, localFile, ctx, warnings), ...(localFile ? [localFile] : [])];
    if (files.length === 0) continue;
    let dest: Destination;
    try {
      dest = await openDestination(d, job, ctx);
    } catch (err) {
      const e = asError(err);
      for (const f of files) ctx.history.uploadFailed(job.id, key, f, e.toLine(), ctx.now());
      warnings.push(copyWarning(null, label, e));
      continue;
    }
    const present: string[] = [];
    for (const f of files) {
      if (existsSync(f)) present.push(f);
      else ctx.history.dropUpload(job.id, key, f); // deleted by hand, or the disk was replaced: nothing left to send
    }
    for (const [i, f] of present.entries()) {
      try {
        await copyOne(dest, d, f, ctx);
        ctx.history.uploadDone(job.id, key, f, ctx.now());
      } catch (err) {
        // What stopped one copy (share gone, Drive disconnected or full) stops the rest: one
        // warning, and every copy still waiting stays pending for the next run.
        const e = asError(err);
        for (const rest of present.slice(i)) ctx.history.uploadFailed(job.id, key, rest, e.toLine(), ctx.now());
        warnings.push(copyWarning(f, label, e));
        break;
      }
    }
  }
  return warnings;
}

export interface PruneReport {
  destination: string;
  plan: RetentionPlan;
  removed: string[];
  /** Files named like this job's backups that are left alone, and why (another PC, another job…). */
  skipped: Array<{ name: string; why: string }>;
  error: string | null;
}

/** Reads a small file (a manifest) at any destination: through the interface, so Drive works too. */
async function readAt(dest: Destination, name: string, scratch: string): Promise<string | null> {
  const path = join(scratch, name);
  try {
    await dest.get(name, path);
    return await readFile(path, 'utf8');
  } catch {
    return null;
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * Whether a manifest says this backup is one of this job's: Lifeboat wrote it, for this very file,
 * from this job's database on this machine. A name that merely looks right (another job sharing
 * the folder, another shop PC writing to the same NAS, someone's own files) never qualifies.
 */
export function ownsBackup(text: string | null, name: string, job: Job, liveJobs?: string[]): { owned: boolean; verified: boolean; why?: string } {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text ?? '') as Partial<Manifest>;
  } catch {
    return { owned: false, verified: false, why: 'its manifest cannot be read' };
  }
  const not = (why: string): { owned: false; verified: false; why: string } => ({ owned: false, verified: false, why });
  if (m.format !== 'lifeboat-backup' || m.file !== name) return not('its manifest is not a Lifeboat manifest for this file');
  if (typeof m.source?.path !== 'string' || pathKey(m.source.path) !== pathKey(job.db)) return not(`it is a backup of ${m.source?.path ?? 'another database'}; delete it by hand when it is no longer needed`);
  if (m.hostname !== hostname()) return not(`it was made on ${m.hostname ?? 'another computer'}; delete it by hand when it is no longer needed`);
  // A manifest naming another job that still exists is that job's: two jobs may back up the same
  // database into the same folder (hourly and nightly), and each keeps its own set. A job that was
  // removed (and perhaps added again under a new id) leaves its backups to the jobs of the database.
  // Without the list of jobs, another job's backups are taken to be that job's: the safe side.
  if (m.jobId !== undefined && m.jobId !== job.id && (liveJobs === undefined || liveJobs.includes(m.jobId))) return not(`it belongs to job ${m.jobId}; that job's retention applies to it`);
  return { owned: true, verified: m.check?.ok === true };
}

/**
 * Retention for every destination of a job. Only this job's backups are candidates: matched by
 * name, and by a manifest beside them that names this job's database and this machine.
 */
export async function pruneJob(job: Job, ctx: CopyContext, opts: { dryRun: boolean }): Promise<PruneReport[]> {
  const reports: PruneReport[] = [];
  const label = sourceLabel(job.db);
  const pendingLocal = new Set(ctx.history.pendingUploads(job.id).map((p) => basename(p.file)));
  const scratch = await mkdtemp(join(tmpdir(), 'lifeboat-prune-'));
  try {
    for (const [i, d] of job.destinations.entries()) {
      const report: PruneReport = { destination: describeDestination(d), plan: { keep: [], remove: [] }, removed: [], skipped: [], error: null };
      reports.push(report);
      try {
        const dest = i === 0 ? new FolderDestination(job.destinations[0].path) : await openDestination(d, job, ctx);
        const objects = await dest.list();
        const names = new Set(objects.map((o) => o.name));
        const candidates = [];
        for (const o of objects) {
          const parsed = parseBackupName(o.name);
          if (!parsed || parsed.label !== label || !names.has(`${o.name}${MANIFEST_SUFFIX}`)) continue;
          const { owned, verified, why } = ownsBackup(await readAt(dest, `${o.name}${MANIFEST_SUFFIX}`, scratch), o.name, job, ctx.jobIds?.());
          if (!owned) {
            report.skipped.push({ name: o.name, why: why ?? 'not this job\'s' });
            continue;
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
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return reports;
}
