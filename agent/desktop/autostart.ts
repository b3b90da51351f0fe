import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AutoLaunch from 'auto-launch';
import { AGENT_NODE_FLAGS } from '../node-flags.js';
import { notificationIcon } from './icons.js';

/**
 * Start at login, through auto-launch (Linux ~/.config/autostart, Windows HKCU\...\Run, macOS a
 * LaunchAgent). auto-launch starts one executable with no arguments, names the entry after the
 * file, and writes Linux's `Exec=` unquoted. So a small launcher script is written first (it
 * carries node's path, the CLI's path, LIFEBOAT_HOME and `start --login`), and on Linux the
 * `.desktop` file is then written again with proper quoting, so paths with spaces or non-ASCII
 * characters work and `desktop-file-validate` passes.
 */
export interface AutostartState {
  enabled: boolean;
  /** The entry the OS reads (file path, or the registry value's name on Windows). */
  entry: string;
  launcher: string;
  /** Why an entry that exists does not count as enabled. */
  problem?: string;
}

const NAME = 'lifeboat';

export interface AutostartOptions {
  home: string;
  /** LIFEBOAT_HOME to pass on, when set (portable installs, tests). */
  lifeboatHome?: string;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
}

function cliPath(): string {
  return fileURLToPath(new URL('../cli.js', import.meta.url));
}

function launcherPath(o: AutostartOptions): string {
  return join(o.home, 'bin', (o.platform ?? process.platform) === 'win32' ? `${NAME}.vbs` : NAME);
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function launcherText(o: AutostartOptions): string {
  const node = process.execPath;
  const cli = cliPath();
  if ((o.platform ?? process.platform) === 'win32') {
    // wscript runs this without a console window; "" is VBScript's escaped quote.
    const q = (s: string): string => `""${s.replace(/"/g, '""')}""`;
    const env = o.lifeboatHome ? `sh.Environment("PROCESS")("LIFEBOAT_HOME") = "${o.lifeboatHome.replace(/"/g, '""')}"\r\n` : '';
    return `' Written by "lifeboat autostart on": starts the Lifeboat agent in the tray at login.\r\nSet sh = CreateObject("WScript.Shell")\r\n${env}sh.Run "${q(node)} ${AGENT_NODE_FLAGS.join(' ')} ${q(cli)} start --login", 0, False\r\n`;
  }
  const env = o.lifeboatHome ? `LIFEBOAT_HOME=${shQuote(o.lifeboatHome)}\nexport LIFEBOAT_HOME\n` : '';
  return `#!/bin/sh\n# Written by "lifeboat autostart on": starts the Lifeboat agent in the tray at login.\n${env}exec ${shQuote(node)} ${AGENT_NODE_FLAGS.join(' ')} ${shQuote(cli)} start --login "$@"\n`;
}

/** One argument of a desktop entry's Exec key, quoted as the Desktop Entry spec asks. */
export function desktopExecArg(arg: string): string {
  const quoted = /[\s"'\\><~|&;$*?#()`]/.test(arg) ? `"${arg.replace(/(["`$\\])/g, '\\$1')}"` : arg;
  // The key's value is itself a string with escapes (\\ for \), and % starts a field code.
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

function desktopEntry(launcher: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Lifeboat',
    'Comment=Keeps the point-of-sale database backed up',
    `Exec=${desktopExecArg(launcher)}`,
    `Icon=${notificationIcon('ok')}`,
    'Terminal=false',
    'StartupNotify=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

function autoLauncher(launcher: string): AutoLaunch {
  return new AutoLaunch({ name: 'Lifeboat', path: launcher, mac: { useLaunchAgent: true } });
}

/** Where auto-launch puts the Linux entry: it always uses ~/.config/autostart, named after the file. */
function linuxEntry(env: NodeJS.ProcessEnv, launcher: string): string {
  return join(env.HOME ?? '', '.config', 'autostart', `${basename(launcher)}.desktop`);
}

export async function autostartStatus(o: AutostartOptions): Promise<AutostartState> {
  const platform = o.platform ?? process.platform;
  const launcher = launcherPath(o);
  const exists = await autoLauncher(launcher).isEnabled();
  const entry = platform === 'linux' ? linuxEntry(o.env ?? process.env, launcher) : platform === 'win32' ? 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\lifeboat' : `~/Library/LaunchAgents/${NAME}.plist`;
  if (!exists) return { enabled: false, entry, launcher };
  // auto-launch's isEnabled only sees that an entry exists; it must also start this Lifeboat.
  if (!existsSync(launcher)) return { enabled: false, entry, launcher, problem: `the launcher ${launcher} is missing` };
  if (!readFileSync(launcher, 'utf8').includes(cliPath())) return { enabled: false, entry, launcher, problem: 'the launcher starts another copy of Lifeboat' };
  if (platform === 'linux') {
    const text = readFileSync(entry, 'utf8');
    if (!text.includes(`Exec=${desktopExecArg(launcher)}`)) return { enabled: false, entry, launcher, problem: `${entry} does not start ${launcher}` };
    if (/^Hidden=true$/m.test(text) || /^X-GNOME-Autostart-enabled=false$/m.test(text)) return { enabled: false, entry, launcher, problem: `${entry} is switched off` };
  }
  return { enabled: true, entry, launcher };
}

/** Writes the launcher script (see launcherText) and returns its path. */
export function writeLauncher(o: AutostartOptions): string {
  const launcher = launcherPath(o);
  mkdirSync(join(o.home, 'bin'), { recursive: true });
  writeFileSync(launcher, launcherText(o), { mode: 0o755 });
  chmodSync(launcher, 0o755);
  return launcher;
}

export async function enableAutostart(o: AutostartOptions): Promise<AutostartState> {
  const launcher = writeLauncher(o);
  await autoLauncher(launcher).enable();
  if ((o.platform ?? process.platform) === 'linux') writeFileSync(linuxEntry(o.env ?? process.env, launcher), desktopEntry(launcher));
  return autostartStatus(o);
}

export async function disableAutostart(o: AutostartOptions): Promise<AutostartState> {
  await autoLauncher(launcherPath(o)).disable();
  return autostartStatus(o);
}
