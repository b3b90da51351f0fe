#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAgentCommands } from './commands/agent-commands.js';
import { registerAutostart } from './commands/autostart.js';
import { registerBackup } from './commands/backup.js';
import { registerDemo } from './commands/demo.js';
import { registerDrive } from './commands/drive.js';
import { registerPassphrase } from './commands/passphrase.js';
import { registerPrune } from './commands/prune.js';
import { registerJob } from './commands/job.js';
import { registerRestore } from './commands/restore.js';
import { registerVerify } from './commands/verify.js';
import { printJson } from './commands/output.js';
import { EXIT_CODES } from './engine/errors.js';
import { VERSION } from './version.js';

const program = new Command()
  .name('lifeboat')
  .description('Keeps a point-of-sale app\'s SQLite database backed up, verified and safe.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerBackup(program);
registerVerify(program);
registerRestore(program);
registerDemo(program);
registerJob(program);
registerAgentCommands(program);
registerAutostart(program);
registerPrune(program);
registerDrive(program);
registerPassphrase(program);

function harden(cmd: Command, path: string): void {
  for (const sub of cmd.commands) {
    sub.exitOverride().showHelpAfterError(`(run "lifeboat ${path}${sub.name()} --help" for usage)`);
    harden(sub, `${path}${sub.name()} `);
  }
}
harden(program, '');

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and --version are successes; every other parse problem is bad usage.
    const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
    process.exitCode = ok ? EXIT_CODES.ok : EXIT_CODES.usage;
    // A script that asked for --json reads stdout only: it gets the usage error as JSON too.
    if (!ok && process.argv.includes('--json')) {
      const message = err.message.replace(/^error: /, '');
      printJson({ ok: false, error: { kind: 'usage', message, hint: 'Run the command with --help to see its options.' }, exitCode: EXIT_CODES.usage });
    }
  } else {
    process.stderr.write(`lifeboat: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = EXIT_CODES.internal;
  }
}
