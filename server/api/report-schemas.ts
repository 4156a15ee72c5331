/**
 * JSON Schemas of the journey report (engine/journey-report.ts), which are its OpenAPI document: the
 * contract test validates real answers against them, the typed client is generated from them, and the
 * dashboard reads this shape. docs/reports.md explains each field.
 */
const count = { type: 'integer', minimum: 0 } as const;
const rate = { type: 'number', minimum: 0, maximum: 1 } as const;
const byReason = { type: 'object', additionalProperties: count } as const;
const day = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

const stepCounts = {
  type: 'object',
  additionalProperties: false,
  required: ['sent', 'delivered', 'bounced', 'complained', 'unknown', 'opened', 'clicked', 'machineOpened', 'machineClicked', 'unsubscribed', 'skipped', 'deferred', 'exited'],
  properties: {
    sent: count, delivered: count, bounced: count, complained: count, unknown: count, opened: count, clicked: count,
    machineOpened: count, machineClicked: count, unsubscribed: count, skipped: byReason, deferred: byReason, exited: byReason,
  },
} as const;

const runTotalsProps = {
  entered: count,
  converted: count,
  conversionRate: rate,
  ended: {
    type: 'object', additionalProperties: false, required: ['completed', 'exited', 'converted', 'holdout'],
    properties: { completed: count, exited: count, converted: count, holdout: count },
  },
  exited: byReason,
} as const;
const runTotalsRequired = ['entered', 'converted', 'conversionRate', 'ended', 'exited'] as const;

const lift = {
  anyOf: [
    {
      type: 'object', additionalProperties: false, required: ['absolute', 'relative', 'interval', 'confidence', 'pValue'],
      properties: {
        absolute: { type: 'number' },
        relative: { anyOf: [{ type: 'number' }, { type: 'null' }] },
        interval: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
        confidence: rate,
        pValue: { anyOf: [rate, { type: 'null' }] },
      },
    },
    { type: 'null' },
  ],
} as const;

export const reportParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' } },
} as const;

export const reportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', pattern: '^[0-9]{1,3}d$', description: 'days back including today, 1d to 400d (default 30d)' },
    version: { type: 'integer', minimum: 1, description: 'only this version' },
  },
} as const;

export const journeyReportResponse = {
  $id: 'JourneyReport',
  type: 'object',
  additionalProperties: false,
  required: ['journeyId', 'name', 'liveVersion', 'paused', 'from', 'to', 'generatedAt', 'totals', 'versions', 'daily', 'experiments', 'surveys'],
  properties: {
    journeyId: { type: 'string' },
    name: { type: 'string' },
    liveVersion: { type: 'integer' },
    paused: { type: 'boolean' },
    from: day,
    to: day,
    generatedAt: { type: 'string', format: 'date-time' },
    totals: {
      type: 'object', additionalProperties: false,
      required: [...runTotalsRequired, 'sent', 'opened', 'clicked', 'unsubscribed', 'bounced'],
      properties: { ...runTotalsProps, sent: count, opened: count, clicked: count, unsubscribed: count, bounced: count },
    },
    versions: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['version', 'live', ...runTotalsRequired, 'steps'],
        properties: {
          version: { type: 'integer' },
          live: { type: 'boolean' },
          ...runTotalsProps,
          steps: {
            type: 'array',
            items: {
              type: 'object', additionalProperties: false, required: ['stepId', 'kind', 'template', 'counts'],
              properties: { stepId: { type: 'string' }, kind: { type: 'string' }, template: { anyOf: [{ type: 'string' }, { type: 'null' }] }, counts: stepCounts },
            },
          },
        },
      },
    },
    daily: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['day', 'entered', 'sent', 'opened', 'clicked', 'converted', 'unsubscribed', 'bounced'],
        properties: { day, entered: count, sent: count, opened: count, clicked: count, converted: count, unsubscribed: count, bounced: count },
      },
    },
    experiments: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['version', 'stepId', 'variants'],
        properties: {
          version: { type: 'integer' },
          stepId: { type: 'string' },
          variants: {
            type: 'array',
            items: {
              type: 'object', additionalProperties: false,
              required: ['name', 'holdout', 'entered', 'sent', 'clicked', 'converted', 'conversionRate', 'lift'],
              properties: { name: { type: 'string' }, holdout: { type: 'boolean' }, entered: count, sent: count, clicked: count, converted: count, conversionRate: rate, lift },
            },
          },
        },
      },
    },
    surveys: {
      type: 'array',
      description: 'CSAT / NPS of each survey sent by the journey (first answer per email): csat = share of 4-5 stars, nps = promoters minus detractors in points.',
      items: {
        type: 'object', additionalProperties: false, required: ['surveyId', 'scale', 'stepIds', 'answers', 'scores', 'average', 'csat', 'nps'],
        properties: {
          surveyId: { type: 'string' },
          scale: { type: 'string', enum: ['csat', 'nps'] },
          stepIds: { type: 'array', items: { type: 'string' } },
          answers: count,
          scores: { type: 'object', additionalProperties: count },
          average: { anyOf: [{ type: 'number' }, { type: 'null' }] },
          csat: { anyOf: [rate, { type: 'null' }] },
          nps: { anyOf: [{ type: 'number', minimum: -100, maximum: 100 }, { type: 'null' }] },
        },
      },
    },
  },
} as const;
