import type { Command } from 'commander';
import { lifeboatHome } from '../config/paths.js';
import { LifeboatError } from '../engine/errors.js';
import { pruneJob } from '../runner/copies.js';
import { History } from '../runner/history.js';
import { join } from 'node:path';
import { printJson, reportError, say } from './output.js';
import { configStore } from './load-store.js';

export function registerPrune(program: Command): void {
  program.command('prune')
    .description('Apply each job\'s retention at every destination (it also runs after each successful backup).')
    .argument('[job]', 'only this job')
    .option('--dry-run', 'only show what would be deleted and why the rest is kept')
    .option('--json', 'print the result as JSON')
    .action(async (jobId: string | undefined, f: { dryRun?: boolean; json?: boolean }) => {
      const home = lifeboatHome();
      const history = new History(join(home, 'history.sqlite'));
      try {
        const loaded = (await configStore(home)).load();
        const jobs = jobId ? loaded.jobs.filter((j) => j.id === jobId) : loaded.jobs;
        if (jobId && jobs.length === 0) throw new LifeboatError('usage', `There is no job "${jobId}".`, `Jobs: ${loaded.jobs.map((j) => j.id).join(', ') || 'none yet'}.`);
        if (loaded.jobs.length === 0) say(loaded.problem ? `No jobs to prune: fix ${loaded.path} first.` : 'No jobs yet, so nothing to prune. Add one with `lifeboat job add`.');
        const result = [];
        for (const job of jobs) {
          const reports = await pruneJob(job, { home, settings: loaded.settings, history, now: () => Date.now(), jobIds: () => loaded.jobs.map((j) => j.id) }, { dryRun: Boolean(f.dryRun) });
          result.push({ job: job.id, destinations: reports });
          for (const r of reports) {
            say(`${job.id} → ${r.destination}: keep ${r.plan.keep.length}, ${f.dryRun ? 'would delete' : 'deleted'} ${f.dryRun ? r.plan.remove.length : r.removed.length}${r.error ? ` (error: ${r.error})` : ''}`);
            for (const k of r.plan.keep) say(`  keep    ${k.name}  (${k.reasons.join(', ')})`);
            for (const name of r.plan.remove) say(`  ${f.dryRun ? 'would delete' : 'deleted'} ${name}`);
            // A renamed PC or a moved database leaves backups retention no longer counts; say so, since they are never pruned.
            for (const s of r.skipped) say(`  left alone ${s.name}  (${s.why})`);
          }
        }
        if (f.json) printJson({ ok: true, dryRun: Boolean(f.dryRun), jobs: result });
        if (result.some((j) => j.destinations.some((d) => d.error))) process.exitCode = 6;
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      } finally {
        history.close();
      }
    });
}
