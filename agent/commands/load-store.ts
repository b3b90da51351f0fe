import type { ConfigStore } from '../config/store.js';

/**
 * The config store, loaded when a command needs it: conf brings ajv and semver (about 160 files),
 * which commands such as `backup` and `verify` never use and would otherwise wait for at start.
 */
export async function configStore(home: string): Promise<ConfigStore> {
  const { ConfigStore: Store } = await import('../config/store.js');
  return new Store(home);
}
