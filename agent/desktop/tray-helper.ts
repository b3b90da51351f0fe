import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

/**
 * Gets systray2's native helper ready to start on every OS. Three quirks of the package (see
 * DESIGN.md) are dealt with here rather than hoped away:
 * - npm installs the helper without its exec bit, and systray2's own chmod('+x') fails silently;
 * - it looks for `./traybin/<helper>` in the *current directory* first, so whatever the agent's
 *   working directory holds could be run;
 * - on Linux it links libappindicator3.so.1, which several distributions ship only as
 *   libayatana-appindicator3.so.1 (same symbols).
 * The helper is copied, with its exec bit, to <home>/tray-helper/<version>/ and systray2 is given
 * that folder as `copyDir`: it then runs the copy and never looks at `./traybin`.
 */
export interface PreparedHelper {
  /** systray2's copyDir option. */
  copyDir: string;
  binPath: string;
  /** A folder to put first on LD_LIBRARY_PATH (Linux, when libappindicator3 is only there as ayatana). */
  libDir: string | null;
}

const require = createRequire(import.meta.url);

function helperName(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'tray_windows_release.exe';
  if (platform === 'darwin') return 'tray_darwin_release';
  return 'tray_linux_release';
}

export function prepareTrayHelper(home: string, platform: NodeJS.Platform = process.platform): PreparedHelper {
  const pkgPath = require.resolve('systray2/package.json');
  const version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  const source = join(dirname(pkgPath), 'traybin', helperName(platform));
  if (!existsSync(source)) throw new Error(`the tray helper ${source} is missing from the systray2 package`);
  const copyDir = join(home, 'tray-helper');
  const binPath = join(copyDir, version, helperName(platform));
  // The size tells a half-written copy (a crash during the copy) from a good one.
  if (!existsSync(binPath) || statSync(binPath).size !== statSync(source).size) {
    mkdirSync(dirname(binPath), { recursive: true });
    const tmp = `${binPath}.tmp-${process.pid}`;
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, binPath);
  } else if (platform !== 'win32' && (statSync(binPath).mode & 0o111) === 0) {
    chmodSync(binPath, 0o755);
  }
  const libDir = platform === 'linux' ? appindicatorShim(binPath, join(copyDir, 'lib')) : null;
  return { copyDir, binPath, libDir };
}

/** Library folders to look in when ldd is not there to ask. */
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib'];

/** True when the dynamic linker cannot find libappindicator3.so.1 for BIN (from `ldd BIN`). */
export function missingAppindicator(lddOutput: string): boolean {
  return /libappindicator3\.so\.1\s*=>\s*not found/.test(lddOutput);
}

/**
 * When libappindicator3.so.1 cannot be found but the ayatana build can, a folder with a symlink
 * under the old name is made, to be put on the helper's LD_LIBRARY_PATH. Null when not needed (or
 * not possible: then the helper fails to start, and the tray code logs its error and runs headless).
 */
export function appindicatorShim(binPath: string, shimDir: string, ldd: (bin: string) => string = runLdd): string | null {
  let out: string;
  try {
    out = ldd(binPath);
  } catch {
    return null;
  }
  if (!missingAppindicator(out)) return null;
  const ayatana = findLibrary('libayatana-appindicator3.so.1');
  if (!ayatana) return null;
  mkdirSync(shimDir, { recursive: true });
  const link = join(shimDir, 'libappindicator3.so.1');
  try {
    unlinkSync(link);
  } catch {
    // Not there yet.
  }
  symlinkSync(ayatana, link);
  return shimDir;
}

function runLdd(bin: string): string {
  return execFileSync('ldd', [bin], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
}

function findLibrary(name: string): string | null {
  try {
    const cache = execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const m = new RegExp(`${name.replace(/\./g, '\\.')} \\(([^)]*)\\) => (\\S+)`).exec(cache);
    if (m?.[2] && (process.arch !== 'x64' || m[1]?.includes('x86-64'))) return m[2];
  } catch {
    // No ldconfig: look in the usual folders.
  }
  return LIB_DIRS.map((d) => join(d, name)).find((p) => existsSync(p)) ?? null;
}

/**
 * The environment for the helper: LIBDIR first on LD_LIBRARY_PATH, and GDK_GL=disable. GTK 3 loads
 * OpenGL when it starts, which on a PC without a GPU driver means Mesa's software renderer and
 * LLVM: 55 of the helper's 84 MiB, for a menu that never draws with GL (measured under Xvfb).
 */
export function helperEnv(libDir: string | null, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, GDK_GL: env.GDK_GL ?? 'disable' };
  if (libDir) out.LD_LIBRARY_PATH = [libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter);
  return out;
}

/** systray2's ready() never settles when the spawn fails; this bounds the wait. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
    p.then((v) => {
      clearTimeout(t);
      resolve(v);
    }, (err: unknown) => {
      clearTimeout(t);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}
