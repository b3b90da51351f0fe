import { parentPort, workerData } from 'node:worker_threads';
import { checkDatabase, type CheckJob } from './integrity.js';

/** SQLite's check of a copy (or of some of its tables) on its own thread. */
const { path, level, tables } = workerData as CheckJob;
parentPort?.postMessage(checkDatabase(path, level, tables));
