import type { Command } from 'commander';
import { formatBytes } from '../engine/backup.js';
import { EXIT_CODES } from '../engine/errors.js';
import type { CheckLevel } from '../engine/integrity.js';
import { verifyBackup } from '../engine/verify-backup.js';
import { printJson, reportError, say } from './output.js';
import { parseCheck } from './parse.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('Re-check a backup against its manifest (size, SHA-256) and with SQLite\'s own check.')
    .argument('<file>', 'the backup file (its .manifest.json must be beside it)')
    .option('--json', 'print one JSON object with the result on stdout')
    .option('--check <level>', 'quick, full (integrity_check) or none (checksum only)', parseCheck, 'quick')
    .option('--passphrase-file <path>', 'for an encrypted copy (.enc): a file holding the passphrase (or set LIFEBOAT_PASSPHRASE)')
    .action(async (file: string, flags: { json?: boolean; check: CheckLevel; passphraseFile?: string }) => {
      try {
        const r = await verifyBackup(file, flags.check, { passphraseFile: flags.passphraseFile });
        const { manifest, ...rest } = r;
        if (flags.json) printJson({ ...rest, snapshotAt: manifest.snapshotAt, source: manifest.source.path });
        if (r.ok) {
          say(`Backup OK: ${r.file} (${formatBytes(r.bytes)}, SHA-256 matches, ${r.check.level === 'none' ? 'not checked by SQLite' : `${r.check.level} check ok`}; taken ${manifest.snapshotAt} from ${manifest.source.path})`);
          process.exitCode = EXIT_CODES.ok;
        } else {
          say(`lifeboat: Backup ${r.file} is NOT good: ${r.problems.join('; ')}. Use another backup; keep this one for inspection.`);
          process.exitCode = EXIT_CODES.check;
        }
      } catch (err) {
        process.exitCode = reportError(err, Boolean(flags.json));
      }
    });
}
