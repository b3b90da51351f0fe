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
