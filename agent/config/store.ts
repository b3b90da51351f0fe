import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import { LifeboatError } from '../engine/errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_SETTINGS, type Job, type Settings } from './job.js';
import { CONFIG_SCHEMA } from './schema.js';

interface StoreShape {
  jobs: Job[];
  settings: Partial<Settings>;
}

export interface LoadedConfig {
  jobs: Job[];
  settings: Settings;
  /** Set when config.json is broken: what is wrong and where. The jobs then come from the last valid config. */
  problem: string | null;
  usingLastGood: boolean;
  path: string;
}

const LAST_GOOD = 'config.last-good.json';

/**
 * config.json under LIFEBOAT_HOME, through conf (JSON schema check on every read and write,
 * atomic writes, migrations). A hand edit that breaks the file is never reset or overwritten:
 * the agent reports where the error is and runs on the last valid config, which is kept beside it.
 */
export class ConfigStore {
  readonly path: string;
  private readonly lastGoodPath: string;

  constructor(readonly home: string) {
    this.path = join(home, 'config.json');
    this.lastGoodPath = join(home, LAST_GOOD);
  }

  private open(): Conf<StoreShape> {
    return new Conf<StoreShape>({
      projectName: 'lifeboat',
      cwd: this.home,
      configName: 'config',
      projectVersion: VERSION,
      schema: CONFIG_SCHEMA,
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
      migrations: {
        // The first version: the store starts with no jobs. Later versions add their steps here.
        '0.1.0': (store) => {
          if (!store.has('jobs')) store.set('jobs', []);
        },
      },
    });
  }

  load(): LoadedConfig {
    try {
      const conf = this.open();
      const store = conf.store;
      const loaded: LoadedConfig = {
        jobs: store.jobs ?? [],
        settings: { ...DEFAULT_SETTINGS, ...(store.settings ?? {}) },
        problem: null,
        usingLastGood: false,
        path: this.path,
      };
      this.rememberGood(store);
      return loaded;
    } catch (err) {
      const problem = describeConfigError(err, this.path);
      const lastGood = this.readLastGood();
      return {
        jobs: lastGood?.jobs ?? [],
        settings: { ...DEFAULT_SETTINGS, ...(lastGood?.settings ?? {}) },
        problem,
        usingLastGood: lastGood !== null,
        path: this.path,
      };
    }
  }

  /** Changes the jobs through conf; refused while config.json is broken, so the person's file is never overwritten. */
  updateJobs(change: (jobs: Job[]) => Job[]): Job[] {
    let conf: Conf<StoreShape>;
    let current: Job[];
    try {
      conf = this.open();
      current = conf.store.jobs ?? [];
    } catch (err) {
      throw new LifeboatError('config', `The config file is broken, so it was not changed: ${describeConfigError(err, this.path)}`,
        `Fix ${this.path} by hand (the last valid version is in ${this.lastGoodPath}), then try again.`);
    }
    const next = change(structuredClone(current));
    try {
      conf.set('jobs', next);
    } catch (err) {
      throw new LifeboatError('config', `The change was refused: ${(err as Error).message}.`, 'Check the values and try again; nothing was saved.');
    }
    this.rememberGood(conf.store);
    return next;
  }

  updateSettings(patch: Partial<Settings>): Settings {
    try {
      const conf = this.open();
      const next = { ...(conf.store.settings ?? {}), ...patch };
      conf.set('settings', next);
      this.rememberGood(conf.store);
      return { ...DEFAULT_SETTINGS, ...next };
    } catch (err) {
      throw new LifeboatError('config', `The settings were not changed: ${describeConfigError(err, this.path)}`, `Fix ${this.path} first.`);
    }
  }

  private rememberGood(store: StoreShape): void {
    const text = JSON.stringify({ jobs: store.jobs ?? [], settings: store.settings ?? {} }, null, 2) + '\n';
    try {
      if (existsSync(this.lastGoodPath) && readFileSync(this.lastGoodPath, 'utf8') === text) return;
    } catch {
      // Unreadable: rewrite it below.
    }
    // Synchronous on purpose: the copy must exist before the person can next break the file.
    const tmp = `${this.lastGoodPath}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.lastGoodPath);
    } catch {
      // A missing last-good copy only matters once config.json breaks; the load reports that then.
    }
  }

  private readLastGood(): StoreShape | null {
    try {
      return JSON.parse(readFileSync(this.lastGoodPath, 'utf8')) as StoreShape;
    } catch {
      return null;
    }
  }
}

/** "config.json line 12, column 5: Unexpected token" from conf's parse or schema errors. */
export function describeConfigError(err: unknown, path: string): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof SyntaxError) {
    const pos = /position (\d+)/.exec(message);
    if (pos) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        // Position without line numbers then.
      }
      const upTo = text.slice(0, Number(pos[1]));
      const line = upTo.split('\n').length;
      const column = Number(pos[1]) - upTo.lastIndexOf('\n');
      return `${path} line ${line}, column ${column} is not valid JSON (${message.replace(/ in JSON at position \d+.*$/, '')})`;
    }
    return `${path} is not valid JSON (${message})`;
  }
  if (message.startsWith('Config schema violation:')) {
    return `${path} has a value that is not allowed: ${message.replace('Config schema violation: ', '')}`;
  }
  return `${path} cannot be read: ${message}`;
}
