/** The uploading side of bench/drive-upload.ts: node drive-upload-child.js URL FILE HOME */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { authorizedClient } from '../agent/destinations/gdrive/auth.js';
import { DriveDestination } from '../agent/destinations/gdrive/drive-destination.js';
import { driveSettings } from '../agent/destinations/gdrive/settings.js';
import { TokenStore } from '../agent/destinations/gdrive/token-store.js';

const [url, file, home] = process.argv.slice(2);
if (!url || !file || !home) throw new Error('usage: drive-upload-child URL FILE HOME');
mkdirSync(home, { recursive: true });
const settings = driveSettings({}, { clientId: 'bench', clientSecret: 'bench', apiRootUrl: `${url}/`, tokenUrl: `${url}/token`, authUrl: `${url}/auth` });
if (!settings) throw new Error('no settings');
const store = new TokenStore(home);
store.write({ refresh_token: 'good-refresh' });
const auth = authorizedClient(settings, store);
if (!auth) throw new Error('no client');
const dest = new DriveDestination({ auth, rootUrl: settings.apiRootUrl, folderPath: ['Lifeboat', 'bench', 'pos'], stateFile: join(home, 'state.json') });
await dest.folder();
const rssBefore = process.memoryUsage.rss();
const started = performance.now();
const obj = await dest.put(file, 'pos-2026-11-26T230000Z.sqlite', 'unused');
const seconds = (performance.now() - started) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
const mib = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;
process.stdout.write(JSON.stringify({
  bytes: obj.bytes, seconds: Math.round(seconds * 10) / 10, mibPerSecond: mib(obj.bytes / seconds),
  rssBeforeMiB: mib(rssBefore), peakRssMiB: mib(peak), growthMiB: mib(peak - rssBefore),
}) + '\n');
