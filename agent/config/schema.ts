import { isAbsolute } from 'node:path';
import { scheduleProblem } from '../schedule/cron.js';
import type { Job } from './job.js';

/**
 * The JSON schema of config.json's top-level properties, as conf wants it. conf validates the
 * whole file against it on every read and write, so a hand edit that breaks it is caught.
 */
const nonNegative = { type: 'number', minimum: 0 };
const count = { type: 'integer', minimum: 0, maximum: 1000 };

const RETENTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['keepLast', 'daily', 'weekly', 'monthly', 'maxAgeDays'],
  properties: { keepLast: count, daily: count, weekly: count, monthly: count, maxAgeDays: { type: ['number', 'null'], minimum: 1 } },
};

export const JOB_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'db', 'schedule', 'destinations', 'retention', 'check', 'gzip', 'quietSeconds', 'maxWaitSeconds', 'busyRetry', 'retry', 'enabled', 'pausedUntil', 'createdAt'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,39}$' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    db: { type: 'string', minLength: 1 },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      properties: { cron: { type: 'string', minLength: 1 }, timezone: { type: 'string' }, label: { type: 'string' } },
    },
    destinations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { enum: ['folder', 'gdrive'] },
          path: { type: 'string', minLength: 1 },
          gzip: { type: 'boolean' },
          encrypt: { type: 'boolean' },
          retention: RETENTION_SCHEMA,
        },
        if: { type: 'object', properties: { kind: { const: 'folder' } } },
        then: { type: 'object', required: ['path'] },
      },
    },
    retention: RETENTION_SCHEMA,
    check: { enum: ['quick', 'full', 'none'] },
    gzip: { type: 'boolean' },
    quietSeconds: nonNegative,
    maxWaitSeconds: nonNegative,
    busyRetry: {
      type: 'object',
      additionalProperties: false,
      required: ['attempts', 'delaySeconds', 'timeoutSeconds'],
      properties: { attempts: { type: 'integer', minimum: 1, maximum: 100 }, delaySeconds: nonNegative, timeoutSeconds: nonNegative },
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      required: ['attempts', 'delaySeconds', 'maxDelaySeconds'],
      properties: { attempts: { type: 'integer', minimum: 1, maximum: 100 }, delaySeconds: nonNegative, maxDelaySeconds: nonNegative },
    },
    enabled: { type: 'boolean' },
    pausedUntil: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
  },
};

export const CONFIG_SCHEMA = {
  jobs: { type: 'array', items: JOB_SCHEMA, default: [] },
  settings: {
    type: 'object',
    additionalProperties: false,
    properties: {
      catchUpDelaySeconds: nonNegative,
      notifyOnSuccess: { type: 'boolean' },
      drive: {
        type: 'object',
        additionalProperties: false,
        required: ['clientId', 'clientSecret'],
        properties: {
          clientId: { type: 'string', minLength: 1 },
          clientSecret: { type: 'string' },
          apiRootUrl: { type: 'string' },
          tokenUrl: { type: 'string' },
          authUrl: { type: 'string' },
          revokeUrl: { type: 'string' },
        },
      },
    },
    default: {},
  },
};

/** conf keeps its migration state under this top-level key; any other unknown key is a mistake (a misspelled "setings"). */
export const CONFIG_ROOT_SCHEMA = { additionalProperties: false, patternProperties: { '^__internal__$': { type: 'object' } } };

const JOB_ID_RULE = 'lower-case letters, digits, - and _ (up to 40, starting with a letter or digit)';

function isIndex(segment: string | undefined): segment is string {
  return segment !== undefined && /^\d+$/.test(segment);
}

function schemaAt(segments: string[]): unknown {
  let node: unknown = { properties: CONFIG_SCHEMA };
  for (const segment of segments) {
    const n = (node ?? {}) as { properties?: Record<string, unknown>; items?: unknown };
    node = isIndex(segment) && n.items ? n.items : n.properties?.[segment];
  }
  return node;
}

function valueAt(data: unknown, segments: string[]): unknown {
  let value = data;
  for (const segment of segments) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[segment] : undefined;
  return value;
}

/** ['destinations', '1', 'kind'] → "destinations[1].kind" */
function fieldName(segments: string[]): string {
  return segments.map((s, i) => (isIndex(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** `jobs/0/schedule/cron` → 'job "till": schedule.cron': a person finds a job by its id, not its index. */
function placeOf(segments: string[], data: unknown): string {
  if (segments[0] !== 'jobs' || !isIndex(segments[1])) return fieldName(segments) || 'the top level';
  const id = valueAt(data, ['jobs', segments[1], 'id']);
  const job = typeof id === 'string' ? `job "${id}"` : `job #${Number(segments[1]) + 1}`;
  const field = fieldName(segments.slice(2));
  return field ? `${job}: ${field}` : job;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One of ajv's errors as conf words it ("`jobs/0/check` must be equal to one of the allowed values"), said with what would be right. */
function describeViolation(part: string, data: unknown): string | null {
  const m = /^`([^`]*)` (.*)$/s.exec(part);
  if (!m) return part;
  const segments = m[1] ? m[1].split('/') : [];
  const message = m[2] ?? '';
  // Follows from another error at the same place (a folder destination without a path).
  if (/^must match "(then|else)" schema$/.test(message)) return null;
  const place = placeOf(segments, data);
  const value = valueAt(data, segments);
  const node = (schemaAt(segments) ?? {}) as { enum?: unknown[]; properties?: Record<string, unknown> };
  if (node.enum && message.startsWith('must be equal to one of the allowed values')) return `${place} is ${shown(value)}; allowed: ${node.enum.join(', ')}`;
  if (message === 'must NOT have additional properties') {
    const allowed = Object.keys(node.properties ?? {});
    const unknown = Object.keys((value ?? {}) as object).filter((k) => !allowed.includes(k) && !(segments.length === 0 && k === '__internal__'));
    return `${place} has unknown key${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}`;
  }
  if (segments[segments.length - 1] === 'id' && message.startsWith('must match pattern')) return `${place} is ${shown(value)}; a job id is ${JOB_ID_RULE}`;
  const primitive = value === null || ['string', 'number', 'boolean'].includes(typeof value);
  return `${place} ${primitive ? `is ${shown(value)} but ` : ''}${message}`;
}

/** conf's "Config schema violation: ..." for DATA, as the job, the field and what is allowed there. */
export function describeSchemaViolation(message: string, data: unknown): string {
  const parts = message.replace(/^Config schema violation:\s*/, '').split('; ');
  const described = parts.map((p) => describeViolation(p, data)).filter((p): p is string => p !== null);
  return [...new Set(described)].join('; ');
}

/** What a hand edit can get wrong that the JSON schema cannot see; each problem names the job and the field. */
export function jobProblems(jobs: Job[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const job of jobs) {
    const at = `job "${job.id}"`;
    if (seen.has(job.id)) problems.push(`${at}: id is used by two jobs; give each job its own id (${JOB_ID_RULE})`);
    seen.add(job.id);
    const schedule = scheduleProblem(job.schedule.cron, job.schedule.timezone);
    if (schedule) problems.push(`${at}: schedule.${schedule}`);
    if (!isAbsolute(job.db)) problems.push(`${at}: db "${job.db}" is a relative path; use the full path of the database file, since the agent starts from another folder`);
    job.destinations.forEach((d, i) => {
      if (d.kind === 'folder' && !isAbsolute(d.path)) problems.push(`${at}: destinations[${i}].path "${d.path}" is a relative path; use the full path of the folder`);
    });
  }
  return problems;
}
