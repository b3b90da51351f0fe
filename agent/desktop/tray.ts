import { createRequire } from 'node:module';
import type * as Systray2 from 'systray2';
import type { ClickEvent, Menu, MenuItem } from 'systray2';
import type { Logger } from '../log.js';
import { trayIcon } from './icons.js';
import type { TrayView } from './tray-model.js';
import { helperEnv, withTimeout, type PreparedHelper } from './tray-helper.js';

export type PauseLength = '1h' | 'tomorrow' | 'indefinitely';

/** What the menu's items ask for; desktop.ts turns them into Agent calls. */
export interface TrayActions {
  backupNow: (jobId: string | null) => void;
  pause: (length: PauseLength) => void;
  resume: () => void;
  openFolder: () => void;
  openLog: () => void;
  toggleAutostart: () => void;
  quit: () => void;
}

export interface TrayOptions {
  helper: PreparedHelper;
  log: Logger;
  actions: TrayActions;
  /** Job slots in the "Backup now" submenu: menu items must all exist from the start (see below). */
  maxJobs?: number;
  /** Restarts of a crashed helper before the agent gives up and runs without a tray. */
  maxRestarts?: number;
  readyTimeoutMs?: number;
  /** Called once when the tray is given up for good (helper kept crashing or never got ready). */
  onGiveUp?: (reason: string) => void;
}

interface Spec { title: string; tooltip: string; enabled: boolean; hidden: boolean; checked?: boolean }

// systray2 is CommonJS with `exports.default`; under NodeNext ESM its default import is the
// exports object, so the class is taken from it explicitly.
const require = createRequire(import.meta.url);
const SysTray = (require('systray2') as { default: new (conf: Systray2.Conf) => SysTrayClass }).default;
type SysTrayClass = Systray2.default;

/**
 * The tray icon and its menu, over systray2. Every item is declared at the start and only shown,
 * hidden, renamed or ticked afterwards: systray2 gives items their ids once, and items added
 * later by `update-menu` break clicks. Updates send `update-item` with the very item object that
 * was passed in, as systray2 wants.
 */
export class Tray {
  private tray: SysTrayClass | null = null;
  private items: Record<string, MenuItem> = {};
  private jobItems: MenuItem[] = [];
  private jobIds: Array<string | null> = [];
  private pauseItems: MenuItem[] = [];
  /** Submenus as built: systray2 overwrites a clicked parent's `items` with copies parsed from the helper's event. */
  private readonly children = new Map<MenuItem, MenuItem[]>();
  private specs = new Map<MenuItem, Spec>();
  private sent = new Map<MenuItem, string>();
  private menu: Menu | null = null;
  private iconPath = '';
  private sentMenu = '';
  private view: TrayView | null = null;
  private autostart = false;
  private restarts = 0;
  private stopping = false;
  private gaveUp = false;
  private readonly maxJobs: number;

  constructor(private readonly o: TrayOptions) {
    this.maxJobs = o.maxJobs ?? 8;
  }

  get helperPid(): number | null {
    return this.tray?.process?.pid ?? null;
  }

  get running(): boolean {
    return this.tray !== null;
  }

  /** Starts the helper; resolves false (after logging why) when it could not be started. */
  async start(view: TrayView, autostart: boolean): Promise<boolean> {
    this.view = view;
    this.autostart = autostart;
    return this.spawn();
  }

  private build(): Menu {
    const item = (title: string, extra: Partial<MenuItem> = {}): MenuItem => ({ title, tooltip: '', enabled: true, ...extra });
    this.jobItems = Array.from({ length: this.maxJobs }, () => item('', { hidden: true }));
    const allJobs = item('All jobs');
    this.pauseItems = [item('for 1 hour'), item('until tomorrow'), item('until I resume')];
    this.items = {
      status: item('Lifeboat', { enabled: false }),
      backupNow: item('Backup now', { tooltip: 'Back up every job now' }),
      backupMenu: item('Backup now', { hidden: true, items: [allJobs, ...this.jobItems] }),
      allJobs,
      pause: item('Pause backups', { items: this.pauseItems }),
      resume: item('Resume backups', { hidden: true }),
      openFolder: item('Open backup folder'),
      openLog: item('Open log'),
      autostart: item('Start at login', { checked: false }),
      quit: item('Quit Lifeboat'),
    };
    const i = this.items;
    this.children.clear();
    for (const parent of [i.backupMenu, i.pause]) if (parent?.items) this.children.set(parent, parent.items);
    this.specs.clear();
    this.sent.clear();
    this.sentMenu = '';
    const icon = trayIcon('ok');
    this.menu = { icon: icon.path, isTemplateIcon: icon.isTemplate, title: '', tooltip: 'Lifeboat', items: [i.status, i.backupNow, i.backupMenu, i.pause, i.resume, i.openFolder, i.openLog, i.autostart, i.quit] as MenuItem[] };
    this.applyView(false);
    // The first menu goes out whole when the helper is ready; later changes item by item.
    for (const [it, spec] of this.specs) {
      Object.assign(it, spec);
      this.sent.set(it, JSON.stringify(spec));
    }
    this.menu.icon = this.iconPath;
    this.sentMenu = `${this.iconPath}\n${this.menu.tooltip}`;
    return this.menu;
  }

  private async spawn(): Promise<boolean> {
    const menu = this.build();
    // systray2 spawns the helper with this process's environment and no way to pass another.
    // The shim folder holds only the libappindicator3 symlink, so other children are unaffected;
    // GDK_GL is taken out again for the programs openPath() starts.
    const env = helperEnv(this.o.helper.libDir);
    if (env.LD_LIBRARY_PATH !== process.env.LD_LIBRARY_PATH) process.env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH;
    if (process.env.GDK_GL === undefined) {
      process.env.GDK_GL = env.GDK_GL;
      process.env.LIFEBOAT_SET_GDK_GL = '1';
    }
    let stderr = '';
    let tray: SysTrayClass | null = null;
    try {
      const t = new SysTray({ menu, copyDir: this.o.helper.copyDir });
      tray = t;
      const started = Date.now();
      // The helper process exists only after systray2 has looked up its binary (asynchronously).
      const early = new Promise<never>((_, reject) => {
        const poll = setInterval(() => {
          const p = t.process;
          if (!p && Date.now() - started < 10_000) return;
          clearInterval(poll);
          if (!p) return;
          p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
          p.once('exit', (code, signal) => reject(new Error(`the tray helper exited before it was ready (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`)));
        }, 20);
        poll.unref();
      });
      early.catch(() => {});
      await withTimeout(Promise.race([t.ready(), early]), this.o.readyTimeoutMs ?? 10_000, 'the tray helper getting ready');
    } catch (err) {
      tray?.process?.kill('SIGKILL');
      this.giveUp(`the tray helper could not be started: ${(err as Error).message}`);
      return false;
    }
    if (!tray) return false;
    this.tray = tray;
    const pid = tray.process.pid;
    this.o.log.info({ event: 'tray-ready', helperPid: pid, helper: this.o.helper.binPath, libDir: this.o.helper.libDir }, 'tray icon shown');
    void tray.onClick((e) => this.clicked(e));
    const running = tray;
    tray.process.once('exit', (code, signal) => this.exited(running, code, signal, stderr));
    tray.process.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    // Items changed before the helper was ready go out now.
    this.flush();
    return true;
  }

  private exited(tray: SysTrayClass, code: number | null, signal: string | null, stderr: string): void {
    if (this.tray !== tray) return;
    this.tray = null;
    if (this.stopping) return;
    this.restarts++;
    const how = signal ?? `code ${code}`;
    const max = this.o.maxRestarts ?? 3;
    if (this.restarts > max) {
      this.giveUp(`the tray helper crashed ${this.restarts} times (last: ${how}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}); running without a tray icon`);
      return;
    }
    this.o.log.warn({ event: 'tray-helper-exit', how, restart: this.restarts, of: max }, `the tray helper exited (${how}); starting it again (${this.restarts} of ${max})`);
    const t = setTimeout(() => void this.spawn(), 500 * this.restarts);
    t.unref();
  }

  private giveUp(reason: string): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.o.log.error({ event: 'tray-headless', reason }, `${reason}; running headless`);
    this.o.onGiveUp?.(reason);
  }

  private clicked(e: ClickEvent): void {
    const i = this.items;
    const a = this.o.actions;
    const it = e.item;
    const pauseItems = this.pauseItems;
    for (const [parent, items] of this.children) parent.items = items;
    try {
      if (it === i.backupNow || it === i.allJobs) a.backupNow(null);
      else if (this.jobItems.includes(it)) a.backupNow(this.jobIds[this.jobItems.indexOf(it)] ?? null);
      else if (it === pauseItems[0]) a.pause('1h');
      else if (it === pauseItems[1]) a.pause('tomorrow');
      else if (it === pauseItems[2]) a.pause('indefinitely');
      else if (it === i.resume) a.resume();
      else if (it === i.openFolder) a.openFolder();
      else if (it === i.openLog) a.openLog();
      else if (it === i.autostart) a.toggleAutostart();
      else if (it === i.quit) a.quit();
      this.o.log.info({ event: 'tray-click', item: this.specs.get(it)?.title ?? it.title }, `tray: ${this.specs.get(it)?.title ?? it.title}`);
    } catch (err) {
      this.o.log.error({ event: 'tray-click-failed', err }, `tray menu action failed: ${(err as Error).message}`);
    }
  }

  /** Shows VIEW; only what changed is sent to the helper. */
  update(view: TrayView, autostart = this.autostart): void {
    this.view = view;
    this.autostart = autostart;
    this.applyView(true);
  }

  private applyView(send: boolean): void {
    const v = this.view;
    const i = this.items;
    if (!v || !this.menu) return;
    const several = v.jobs.length > 1;
    const set = (item: MenuItem | undefined, spec: Partial<Spec>): void => {
      if (!item) return;
      const prev = this.specs.get(item) ?? { title: item.title, tooltip: item.tooltip, enabled: item.enabled ?? true, hidden: item.hidden ?? false, checked: item.checked };
      this.specs.set(item, { ...prev, ...spec });
    };
    set(i.status, { title: v.statusLine });
    set(i.backupNow, { hidden: several, enabled: v.jobs.length > 0 });
    set(i.backupMenu, { hidden: !several });
    this.jobIds = this.jobItems.map((_, k) => v.jobs[k]?.id ?? null);
    this.jobItems.forEach((item, k) => set(item, { title: v.jobs[k]?.name ?? '', hidden: !several || !v.jobs[k] }));
    set(i.pause, { hidden: v.allPaused || v.jobs.length === 0 });
    set(i.resume, { hidden: !v.anyPaused });
    set(i.autostart, { checked: this.autostart });
    const icon = trayIcon(v.state);
    this.iconPath = icon.path;
    this.menu.isTemplateIcon = icon.isTemplate;
    this.menu.tooltip = v.tooltip;
    if (send) this.flush();
  }

  private flush(): void {
    const tray = this.tray;
    if (!tray || !this.menu) return;
    // systray2 appends " (√)" to a checked item's title in place on Linux: titles are reset from
    // the specs before every send, or the mark would pile up.
    for (const [item, spec] of this.specs) Object.assign(item, spec);
    for (const [parent, items] of this.children) parent.items = items;
    // systray2 replaces menu.icon by the file's base64 in place, so the path is kept aside.
    const menuKey = `${this.iconPath}\n${this.menu.tooltip}`;
    if (menuKey !== this.sentMenu) {
      this.sentMenu = menuKey;
      this.menu.icon = this.iconPath;
      void tray.sendAction({ type: 'update-menu', menu: this.menu }).catch((err: unknown) => this.o.log.warn({ err }, 'tray update failed'));
      for (const [item, spec] of this.specs) Object.assign(item, spec);
    }
    for (const [item, spec] of this.specs) {
      const key = JSON.stringify(spec);
      if (this.sent.get(item) === key) continue;
      this.sent.set(item, key);
      Object.assign(item, spec);
      void tray.sendAction({ type: 'update-item', item }).catch((err: unknown) => this.o.log.warn({ err }, 'tray update failed'));
    }
  }

  /** Removes the icon and ends the helper (never the agent: kill(false)). */
  async stop(): Promise<void> {
    this.stopping = true;
    const tray = this.tray;
    this.tray = null;
    if (!tray?.process || tray.process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => tray.process.once('exit', () => resolve()));
    await tray.kill(false).catch(() => {});
    await withTimeout(exited, 2000, 'the tray helper exiting').catch(() => tray.process.kill('SIGKILL'));
  }
}
