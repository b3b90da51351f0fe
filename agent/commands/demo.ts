import { existsSync, mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { demoPaths, lifeboatHome } from '../config/paths.js';
import { createPosDatabase } from '../demo/pos-schema.js';
import { DEFAULT_BACKUP_OPTIONS } from '../engine/backup-options.js';
import { formatBytes } from '../engine/backup.js';
import { runBackup } from '../engine/run-backup.js';
import { verifyBackup } from '../engine/verify-backup.js';
import { summaryLine } from './backup.js';
import { printJson, progressReporter, reportError, say } from './output.js';

/** Big enough to show progress and a real check, small enough for a first run to take seconds. */
const DEMO_BYTES = 16 << 20;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Make a demo POS database (if there is none yet), back it up, verify the backup and show where everything is.')
    .option('--json', 'print one JSON object with the result on stdout')
    .action(async (flags: { json?: boolean }) => {
      const paths = demoPaths();
      try {
        mkdirSync(paths.dir, { recursive: true });
        if (!existsSync(paths.db)) {
          say(`Creating a demo POS database (WAL mode, ${formatBytes(DEMO_BYTES)}) at ${paths.db} …`);
          createPosDatabase(paths.db, DEMO_BYTES, 'wal');
        }
        const bar = progressReporter(!flags.json && process.stderr.isTTY === true);
        const result = await runBackup({ ...DEFAULT_BACKUP_OPTIONS, db: paths.db, dest: paths.backups, quietMs: 500 }, bar.update);
        bar.stop();
        const verified = await verifyBackup(result.file, 'quick');
        if (flags.json) printJson({ ok: verified.ok, home: lifeboatHome(), demoDatabase: paths.db, backup: result, verified: verified.ok });
        say(summaryLine(result));
        say(`Verified again from disk: ${verified.ok ? 'OK' : verified.problems.join('; ')}`);
        say('');
        say(`Lifeboat's folder:   ${lifeboatHome()}   (set LIFEBOAT_HOME to use another)`);
        say(`Demo database:       ${paths.db}`);
        say(`Backups:             ${paths.backups}`);
        say(`Manifest:            ${result.manifest}`);
        say('');
        say('Next: back up your own database with');
        say('  lifeboat backup --db /path/to/pos.db --dest /path/to/backups');
        process.exitCode = verified.ok ? 0 : 5;
      } catch (err) {
        process.exitCode = reportError(err, Boolean(flags.json));
      }
    });
}
