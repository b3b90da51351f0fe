import { parentPort, workerData } from 'node:worker_threads';
import { checkDatabase, type CheckLevel } from './integrity.js';

/** SQLite's check of a copy on its own thread, so the SHA-256 of the same file is computed meanwhile. */
const { path, level } = workerData as { path: string; level: CheckLevel };
parentPort?.postMessage(checkDatabase(path, level));
