import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import { LifeboatError } from '../engine/errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_SETTINGS, type Job, type Settings } from './job.js';
import { CONFIG_ROOT_SCHEMA, CONFIG_SCHEMA, describeSchemaViolation, jobProblems } from './schema.js';

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

  private open(withMigrations: boolean): Conf<StoreShape> {
    return new Conf<StoreShape>({
      projectName: 'lifeboat',
      cwd: this.home,
      configName: 'config',
      schema: CONFIG_SCHEMA,
      rootSchema: CONFIG_ROOT_SCHEMA,
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
      ...(withMigrations ? {
        projectVersion: VERSION,
        migrations: {
          // The first version: the store starts with no jobs. Later versions add their steps here.
          '0.1.0': (store: Conf<StoreShape>) => {
            if (!store.has('jobs')) store.set('jobs', []);
          },
        },
      } : {}),
    });
  }

  /**
   * conf and the store when config.json is valid, or what is wrong with it. Values the schema
   * cannot judge (a cron croner cannot read, an unknown time zone, a relative path) count as
   * invalid too: otherwise they would become the last good config and crash the scheduler.
   */
  private read(): { conf: Conf<StoreShape>; store: StoreShape } | { problem: string } {
    // Judged before conf opens the file: conf stamps its migration version into a file that
    // lacks one, which would rewrite a hand-edited file that is about to be reported as broken.
    const early = this.rawJobProblems();
    if (early.length > 0) return { problem: `${this.path} has a value that is not allowed: ${early.join('; ')}` };
    if (!existsSync(this.path) && existsSync(this.lastGoodPath)) {
      // Moved away, or deleted by an editor that writes anew: conf would start an empty file,
      // and the next load would take "no jobs" as the last good config.
      return { problem: `${this.path} is missing. Copy ${this.lastGoodPath} to ${this.path} to restore the jobs, or delete ${LAST_GOOD} to start with none` };
    }
    let conf: Conf<StoreShape>;
    let store: StoreShape;
    try {
      // conf runs its migrations before it validates, and a migration stamps the file; so the
      // file is validated first by a conf without migrations, which writes nothing when invalid.
      if (existsSync(this.path)) void this.open(false).store;
      conf = this.open(true);
      store = conf.store;
    } catch (err) {
      return { problem: describeConfigError(err, this.path) };
    }
    return { conf, store };
  }

  /** Problems of the jobs in the file as it is on disk; none when it is missing or not JSON (conf reports that). */
  private rawJobProblems(): string[] {
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as { jobs?: unknown };
      return Array.isArray(raw.jobs) ? jobProblems(raw.jobs as Job[]) : [];
    } catch {
      return [];
    }
  }

  load(): LoadedConfig {
    const read = this.read();
    if ('problem' in read) {
      const lastGood = this.readLastGood();
      return {
        jobs: lastGood?.jobs ?? [],
        settings: { ...DEFAULT_SETTINGS, ...(lastGood?.settings ?? {}) },
        problem: read.problem,
        usingLastGood: lastGood !== null,
        path: this.path,
      };
    }
    this.rememberGood(read.store);
    return { jobs: read.store.jobs ?? [], settings: { ...DEFAULT_SETTINGS, ...(read.store.settings ?? {}) }, problem: null, usingLastGood: false, path: this.path };
  }

  /** conf and the store, or a refusal: while config.json is broken nothing is written, so the person's file is never overwritten. */
  private openValid(): { conf: Conf<StoreShape>; store: StoreShape } {
    const read = this.read();
    if ('problem' in read) {
      throw new LifeboatError('config', `The config file is broken, so it was not changed: ${read.problem.replace(/\.?$/, '.')}`,
        `Fix ${this.path} by hand (the last valid version is in ${this.lastGoodPath}), then try again.`);
    }
    return read;
  }

  /** The jobs of a valid config.json, for checks before a change; throws like a change would while it is broken. */
  currentJobs(): Job[] {
    return this.openValid().store.jobs ?? [];
  }

  /**
   * Changes the jobs through conf. A change that leaves them as they were writes nothing
   * (check `changed`), so commands can say so instead of claiming a change.
   */
  updateJobs(change: (jobs: Job[]) => Job[]): Job[] {
    return this.changeJobs(change).jobs;
  }

  changeJobs(change: (jobs: Job[]) => Job[]): { jobs: Job[]; changed: boolean } {
    const { conf, store } = this.openValid();
    const current = store.jobs ?? [];
    const next = change(structuredClone(current));
    if (JSON.stringify(next) === JSON.stringify(current)) return { jobs: next, changed: false };
    const problems = jobProblems(next);
    if (problems.length > 0) throw new LifeboatError('config', `The change was refused: ${problems.join('; ')}.`, 'Nothing was saved; correct the value and try again.');
    try {
      conf.set('jobs', next);
    } catch (err) {
      throw new LifeboatError('config', `The change was refused: ${describeSchemaViolation((err as Error).message, { ...store, jobs: next })}.`, 'Nothing was saved; correct the value and try again.');
    }
    this.rememberGood(conf.store);
    return { jobs: next, changed: true };
  }

  updateSettings(patch: Partial<Settings>): Settings {
    const { conf, store } = this.openValid();
    const next = { ...(store.settings ?? {}), ...patch };
    try {
      conf.set('settings', next);
    } catch (err) {
      throw new LifeboatError('config', `The settings were not changed: ${describeSchemaViolation((err as Error).message, { ...store, settings: next })}.`, 'Nothing was saved; correct the value and try again.');
    }
    this.rememberGood(conf.store);
    return { ...DEFAULT_SETTINGS, ...next };
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
    return `${path} has a value that is not allowed: ${describeSchemaViolation(message, readJson(path))}`;
  }
  return `${path} cannot be read: ${message}`;
}

/** The file as parsed JSON, for naming the job behind a schema error; null when it cannot be read. */
function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}
