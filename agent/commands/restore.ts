import type { Command } from 'commander';
import { restoreBackup } from '../engine/restore.js';
import { printJson, reportError, say } from './output.js';

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('Verify a backup, then put it in place of a database (the old file is kept beside it).')
    .requiredOption('--from <file>', 'the backup file to restore')
    .requiredOption('--to <path>', 'the database path to restore to')
    .option('--force', 'restore even if the database seems to be in use (old files are still kept)')
    .option('--passphrase-file <path>', 'for an encrypted copy (.enc): a file holding the passphrase (or set LIFEBOAT_PASSPHRASE)')
    .option('--json', 'print one JSON object with the result on stdout')
    .action(async (flags: { from: string; to: string; force?: boolean; json?: boolean; passphraseFile?: string }) => {
      try {
        const r = await restoreBackup({ from: flags.from, to: flags.to, force: Boolean(flags.force), passphraseFile: flags.passphraseFile });
        if (flags.json) {
          const { verify, ...rest } = r;
          printJson({ ok: true, ...rest, sha256: verify.manifest.db.sha256, snapshotAt: verify.manifest.snapshotAt });
        }
        say(`Restored ${r.restored} from the backup taken ${r.verify.manifest.snapshotAt}.`);
        if (r.previous) say(`The database that was there is kept as ${r.previous}.`);
        for (const f of r.movedAside) say(`Moved aside: ${f}`);
        process.exitCode = 0;
      } catch (err) {
        process.exitCode = reportError(err, Boolean(flags.json));
      }
    });
}
