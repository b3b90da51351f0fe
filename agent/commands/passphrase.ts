import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { passphrasePath } from '../config/passphrase.js';
import { lifeboatHome } from '../config/paths.js';
import { LifeboatError } from '../engine/errors.js';
import { reportError, say } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function registerPassphrase(program: Command): void {
  const p = program.command('passphrase').description('The passphrase that encrypts copies at destinations with "encrypt" on.');
  p.command('set')
    .description('Read the passphrase from standard input and keep it in LIFEBOAT_HOME/passphrase (readable by this user only).')
    .action(async () => {
      try {
        if (process.stdin.isTTY) say('Type the passphrase, then Enter and Ctrl+D (keep a copy somewhere safe: without it encrypted copies cannot be restored):');
        const value = await readStdin();
        if (value.length < 8) throw new LifeboatError('usage', 'The passphrase is too short.', 'Use at least 8 characters; a few random words are best.');
        const file = passphrasePath(lifeboatHome());
        // Often the first command on a new machine, before anything else made Lifeboat's folder.
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, value + '\n', { mode: 0o600 });
        // The mode above applies only to a new file: one made earlier by hand may be readable by others.
        chmodSync(file, 0o600);
        say(`Passphrase stored in ${file} (mode 0600).`);
      } catch (err) {
        process.exitCode = reportError(err, false);
      }
    });
}
