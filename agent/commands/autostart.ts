import { InvalidArgumentError, type Command } from 'commander';
import { lifeboatHome } from '../config/paths.js';
import type { AutostartOptions, AutostartState } from '../desktop/autostart.js';
import { EXIT_CODES } from '../engine/errors.js';
import { printJson, reportError, say } from './output.js';

function describe(s: AutostartState): string {
  if (s.enabled) return `Start at login: on. ${s.entry} starts ${s.launcher} (the agent in the tray, with the login catch-up).`;
  return `Start at login: off.${s.problem ? ` An entry exists but does not count: ${s.problem}. Run \`lifeboat autostart on\` to repair it.` : ''}`;
}

export function registerAutostart(program: Command): void {
  program.command('autostart')
    .description('Start the agent in the tray when you log in: on, off, or status.')
    .argument('<action>', 'on | off | status', (v) => {
      if (v !== 'on' && v !== 'off' && v !== 'status') throw new InvalidArgumentError('expected on, off or status.');
      return v;
    })
    .option('--json', 'print the state as JSON')
    .action(async (action: 'on' | 'off' | 'status', f: { json?: boolean }) => {
      try {
        // Loaded here, not at start-up: every other command (and the agent) does without it.
        const { autostartStatus, disableAutostart, enableAutostart } = await import('../desktop/autostart.js');
        const home = lifeboatHome();
        const o: AutostartOptions = { home, lifeboatHome: process.env.LIFEBOAT_HOME?.trim() ? home : undefined };
        const state = action === 'on' ? await enableAutostart(o) : action === 'off' ? await disableAutostart(o) : await autostartStatus(o);
        if (f.json) printJson({ ok: true, ...state });
        say(describe(state));
        if (action === 'on' && !state.enabled) process.exitCode = EXIT_CODES.internal;
      } catch (err) {
        process.exitCode = reportError(err, Boolean(f.json));
      }
    });
}
