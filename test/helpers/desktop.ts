import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodePng } from '../../build/png.js';
import { x11SelectionOwned } from '../../agent/desktop/tray-host.js';
import { ROOT, sleep } from './fixtures.js';
import { hasCommand } from './env.js';

const run = promisify(execFile);

/** The Debian packages the desktop tests use, by the command that shows each is there. */
export const DESKTOP_TOOLS: Record<string, string> = {
  Xvfb: 'xvfb', trayer: 'trayer', xdotool: 'xdotool', dunst: 'dunst', 'notify-send': 'libnotify-bin',
  'dbus-daemon': 'dbus', 'dbus-monitor': 'dbus', 'dbus-send': 'dbus', import: 'imagemagick', 'desktop-file-validate': 'desktop-file-utils',
};

export function missingDesktopTools(): string[] {
  return Object.entries(DESKTOP_TOOLS).filter(([cmd]) => !hasCommand(cmd)).map(([, pkg]) => pkg);
}

export const ARTIFACTS = join(ROOT, 'test-artifacts');

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}
export { until };

function kill(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A private desktop for a test file: Xvfb on a display number it picks itself (-displayfd), a
 * D-Bus session bus, and optionally dunst (the notification daemon), trayer (the tray host) and a
 * dbus-monitor that records every Notify call. Everything is torn down by stop().
 */
export class TestDesktop {
  display = '';
  busAddress = '';
  private readonly children: ChildProcess[] = [];
  private monitorOut = '';

  get env(): NodeJS.ProcessEnv {
    return { DISPLAY: this.display, DBUS_SESSION_BUS_ADDRESS: this.busAddress };
  }

  static async start(o: { tray?: boolean; trayHeight?: number; notifications?: boolean; width?: number; height?: number } = {}): Promise<TestDesktop> {
    const d = new TestDesktop();
    try {
      await d.startX(o.width ?? 800, o.height ?? 600);
      await d.startBus();
      if (o.notifications !== false) await d.startDunst();
      if (o.tray !== false) await d.startTrayer(o.trayHeight ?? 24);
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  private spawn(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'pipe']): ChildProcess {
    const child = spawn(cmd, args, { env: { ...process.env, ...this.env, ...env }, stdio });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      if (code && code !== 0 && signal === null) process.stderr.write(`${cmd} exited ${code}: ${err}\n`);
    });
    this.children.push(child);
    return child;
  }

  private xvfbErr = '';

  private async startX(width: number, height: number): Promise<void> {
    // -noreset: without it Xvfb resets itself whenever its last client leaves (the agent's tray
    // probe does exactly that), and a client connecting during the reset can be turned away.
    const x = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    this.children.push(x);
    x.stderr?.on('data', (b: Buffer) => (this.xvfbErr = (this.xvfbErr + b.toString()).slice(-2000)));
    const fd3 = x.stdio[3] as NodeJS.ReadableStream;
    let out = '';
    fd3.on('data', (b: Buffer) => (out += b.toString()));
    const n = await until('Xvfb to pick a display', () => /^(\d+)\n/.exec(out)?.[1], 10_000, 20);
    this.display = `:${n}`;
    // The display number alone does not prove a client can connect yet; a real handshake does.
    await until(`Xvfb on ${this.display} to accept a client (${this.xvfbErr.trim() || 'no output'})`, () => x11SelectionOwned(this.display, 'WM_S0', process.env).then(() => true, () => false), 10_000);
  }

  private async startBus(): Promise<void> {
    const bus = this.spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], {}, ['ignore', 'pipe', 'pipe']);
    let out = '';
    bus.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    this.busAddress = await until('the session bus', () => out.split('\n')[0]?.startsWith('unix:') && out.includes('\n') ? out.split('\n')[0] : null, 10_000, 20);
  }

  async hasBusName(name: string): Promise<boolean> {
    const r = await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${name}`], { env: { ...process.env, ...this.env } });
    return /boolean true/.test(r.stdout);
  }

  private async startDunst(): Promise<void> {
    const mon = this.spawn('dbus-monitor', ['--session', "interface='org.freedesktop.Notifications',member='Notify'"], {}, ['ignore', 'pipe', 'pipe']);
    mon.stdout?.on('data', (b: Buffer) => (this.monitorOut += b.toString()));
    this.spawn('dunst', []);
    await until('dunst on the session bus', () => this.hasBusName('org.freedesktop.Notifications'), 10_000);
  }

  /** trayer, started again (up to 3 times) if it dies before it owns the tray selection. */
  private async startTrayer(height: number): Promise<void> {
    const args = ['--edge', 'top', '--align', 'right', '--widthtype', 'request', '--height', String(height), '--SetDockType', 'true', '--transparent', 'false', '--expand', 'true'];
    let why = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const trayer = this.spawn('trayer', args);
      let err = '';
      trayer.stderr?.on('data', (b: Buffer) => (err += b.toString()));
      const owned = await until('trayer to own the system tray selection, or to exit', async () => {
        if (await x11SelectionOwned(this.display, '_NET_SYSTEM_TRAY_S0', process.env).catch(() => false)) return 'owned';
        return trayer.exitCode !== null || trayer.signalCode !== null ? 'exited' : null;
      }, 10_000);
      if (owned === 'owned') return;
      why = `trayer exited ${trayer.exitCode ?? trayer.signalCode}: ${err.trim()}`;
      await sleep(500);
    }
    throw new Error(`trayer would not start on ${this.display} after 3 tries (${why}; Xvfb said: ${this.xvfbErr.trim() || 'nothing'})`);
  }

  /** Every Notify call seen on the bus so far (dbus-monitor's text). */
  get notifyCalls(): string {
    return this.monitorOut;
  }

  /** How many notifications dunst shows right now. */
  async dunstDisplayed(): Promise<number> {
    const r = await run('dunstctl', ['count', 'displayed'], { env: { ...process.env, ...this.env } }).catch(() => ({ stdout: '0' }));
    return Number(r.stdout.trim());
  }

  /** What a click on the newest notification does: dunst invokes its default action. */
  async dunstClickNewest(): Promise<void> {
    await run('dunstctl', ['action', '0'], { env: { ...process.env, ...this.env } });
  }

  async dunstCloseAll(): Promise<void> {
    await run('dunstctl', ['close-all'], { env: { ...process.env, ...this.env } }).catch(() => {});
  }

  async xdotool(...args: string[]): Promise<string> {
    const r = await run('xdotool', args, { env: { ...process.env, ...this.env } });
    return r.stdout;
  }

  /** Visible windows matching xdotool search ARGS, with their geometry. */
  async windows(...search: string[]): Promise<Array<{ id: string; x: number; y: number; w: number; h: number }>> {
    const ids = (await this.xdotool('search', '--onlyvisible', ...search).catch(() => '')).split('\n').filter(Boolean);
    const out = [];
    for (const id of ids) {
      const g = await this.xdotool('getwindowgeometry', '--shell', id).catch(() => '');
      const v = (k: string): number => Number(new RegExp(`${k}=(-?\\d+)`).exec(g)?.[1] ?? NaN);
      out.push({ id, x: v('X'), y: v('Y'), w: v('WIDTH'), h: v('HEIGHT') });
    }
    return out;
  }

  /** The tray icon's window (class "systray", the helper's GTK status icon). */
  async trayIcon(): Promise<{ x: number; y: number; w: number; h: number }> {
    return until('the tray icon', async () => (await this.windows('--classname', 'systray')).find((w) => w.w > 8 && w.x >= 0), 10_000);
  }

  /** A press and release with a short pause between, as a person clicks (GTK menus want both). */
  async click(x: number, y: number): Promise<void> {
    await this.xdotool('mousemove', String(Math.round(x)), String(Math.round(y)));
    await sleep(150);
    await this.xdotool('mousedown', '1');
    await sleep(100);
    await this.xdotool('mouseup', '1');
  }

  /** Popup menus of the tray helper now shown, largest first. */
  async menus(): Promise<Array<{ id: string; x: number; y: number; w: number; h: number }>> {
    return (await this.windows('--name', 'tray_linux_release')).filter((w) => w.w > 40 && w.h > 20 && w.x >= 0);
  }

  async openTrayMenu(): Promise<{ id: string; x: number; y: number; w: number; h: number }> {
    const icon = await this.trayIcon();
    await this.click(icon.x + icon.w / 2, icon.y + icon.h / 2);
    return until('the tray menu', async () => (await this.menus())[0], 5000);
  }

  /** Clicks row ROW (0-based, visible rows only) of MENU, which shows ROWS rows of equal height. */
  async clickRow(menu: { x: number; y: number; w: number; h: number }, row: number, rows: number): Promise<void> {
    const pad = 4; // GTK's menu padding above the first and below the last row
    const rowH = (menu.h - 2 * pad) / rows;
    await this.click(menu.x + Math.min(60, menu.w / 2), menu.y + pad + rowH * row + rowH / 2);
  }

  /** RGB pixels of the whole screen. */
  async grab(): Promise<{ width: number; height: number; rgb: Buffer }> {
    const r = await run('import', ['-window', 'root', '-depth', '8', 'ppm:-'], { env: { ...process.env, ...this.env }, encoding: 'buffer', maxBuffer: 64 << 20 });
    const buf = r.stdout;
    // P6\n<w> <h>\n<max>\n<data>
    const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'));
    if (!header) throw new Error('import did not write a PPM image');
    return { width: Number(header[1]), height: Number(header[2]), rgb: buf.subarray(header[0].length) };
  }

  /** Saves a screenshot (optionally a crop, zoomed by an integer factor) under test-artifacts/. */
  async screenshot(name: string, crop?: { x: number; y: number; w: number; h: number; zoom?: number }): Promise<string> {
    const shot = await this.grab();
    const c = crop ?? { x: 0, y: 0, w: shot.width, h: shot.height };
    const zoom = crop?.zoom ?? 1;
    const x0 = Math.max(0, c.x);
    const y0 = Math.max(0, c.y);
    const w = Math.min(c.w, shot.width - x0);
    const h = Math.min(c.h, shot.height - y0);
    const rgba = new Uint8Array(w * zoom * h * zoom * 4);
    for (let y = 0; y < h * zoom; y++) {
      for (let x = 0; x < w * zoom; x++) {
        const s = ((y0 + Math.floor(y / zoom)) * shot.width + x0 + Math.floor(x / zoom)) * 3;
        const d = (y * w * zoom + x) * 4;
        rgba[d] = shot.rgb[s] ?? 0;
        rgba[d + 1] = shot.rgb[s + 1] ?? 0;
        rgba[d + 2] = shot.rgb[s + 2] ?? 0;
        rgba[d + 3] = 255;
      }
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    writeFileSync(path, encodePng(w * zoom, h * zoom, rgba));
    return path;
  }

  /** How many pixels inside AREA are within TOL of each colour. */
  async countColours(area: { x: number; y: number; w: number; h: number }, colours: Record<string, [number, number, number]>, tol = 40): Promise<Record<string, number>> {
    const shot = await this.grab();
    const counts: Record<string, number> = Object.fromEntries(Object.keys(colours).map((k) => [k, 0]));
    for (let y = Math.max(0, area.y); y < Math.min(shot.height, area.y + area.h); y++) {
      for (let x = Math.max(0, area.x); x < Math.min(shot.width, area.x + area.w); x++) {
        const i = (y * shot.width + x) * 3;
        for (const [k, [r, g, b]] of Object.entries(colours)) {
          if (Math.abs((shot.rgb[i] ?? 0) - r) + Math.abs((shot.rgb[i + 1] ?? 0) - g) + Math.abs((shot.rgb[i + 2] ?? 0) - b) <= tol) counts[k] = (counts[k] ?? 0) + 1;
        }
      }
    }
    return counts;
  }

  async stop(): Promise<void> {
    for (const c of this.children.reverse()) await kill(c);
    this.children.length = 0;
  }
}

/** The fill colours of the state icons (build/draw-icons.ts). */
export const STATE_COLOURS: Record<'ok' | 'running' | 'warning' | 'error', [number, number, number]> = {
  ok: [30, 158, 74], running: [31, 111, 209], warning: [245, 170, 0], error: [214, 40, 40],
};
