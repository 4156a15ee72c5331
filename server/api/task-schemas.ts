/**
 * JSON Schemas of the owner and task routes (server/api/tasks-routes.ts): request validation and the
 * OpenAPI document's answers (the contract test validates every answer against them).
 */
const nullable = <T extends object>(s: T) => ({ anyOf: [s, { type: 'null' }] }) as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

export const ownerIdParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Your id for the owner (what contacts carry in `owner`).' } },
} as const;

export const ownerInput = {
  type: 'object', required: ['name', 'email'], additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    email: { type: 'string', minLength: 3, maxLength: 320, description: 'Where task notifications go.' },
    crmId: nullable({ type: 'string', maxLength: 128 }),
  },
} as const;

const owner = {
  type: 'object', additionalProperties: false, required: ['id', 'name', 'email', 'crmId', 'createdAt', 'updatedAt'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' }, crmId: nullable({ type: 'string' }), createdAt: dateTime, updatedAt: dateTime },
} as const;

export const ownerResponse = {
  type: 'object', additionalProperties: false, required: ['owner', 'created'],
  properties: { owner, created: { type: 'boolean' } },
} as const;
export const ownerOnly = { type: 'object', additionalProperties: false, required: ['owner'], properties: { owner } } as const;

export const pageQuery = {
  type: 'object', additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, cursor: { type: 'string', maxLength: 100 } },
} as const;

export const ownerList = {
  type: 'object', additionalProperties: false, required: ['owners', 'next'],
  properties: { owners: { type: 'array', items: owner }, next: nullable({ type: 'string' }) },
} as const;

export const taskIdParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^t_[A-Za-z0-9_-]{22}$' } },
} as const;

export const tasksQuery = {
  type: 'object', additionalProperties: false,
  properties: {
    ...pageQuery.properties,
    status: { type: 'string', enum: ['open', 'done'] },
    owner: ownerIdParams.properties.id,
    contactId: { type: 'string', pattern: '^[0-9a-fA-F]{24}$' },
  },
} as const;

const task = {
  type: 'object', additionalProperties: false,
  required: ['id', 'contactId', 'ownerId', 'journeyId', 'stepId', 'title', 'why', 'due', 'status', 'createdAt', 'closedAt', 'resolution', 'notified', 'contactUrl'],
  properties: {
    id: { type: 'string' }, contactId: { type: 'string' }, ownerId: nullable({ type: 'string' }), journeyId: { type: 'string' }, stepId: { type: 'string' },
    title: { type: 'string' }, why: { type: 'string' }, due: dateTime, status: { type: 'string', enum: ['open', 'done'] },
    createdAt: dateTime, closedAt: nullable(dateTime), resolution: nullable({ type: 'string' }),
    notified: {
      type: 'object', additionalProperties: false, required: ['email', 'webhook'],
      description: 'How the owner was told: the email send outcome (sent, duplicate, unknown, failed, no_owner) and the webhook outcome; null when not asked for or not yet.',
      properties: { email: nullable({ type: 'string' }), webhook: nullable({ type: 'string' }) },
    },
    contactUrl: { type: 'string', description: 'The contact in the API (GET /v1/contacts/{id}).' },
  },
} as const;

export const taskResponse = { type: 'object', additionalProperties: false, required: ['task'], properties: { task } } as const;

export const taskList = {
  type: 'object', additionalProperties: false, required: ['tasks', 'next'],
  properties: { tasks: { type: 'array', items: task }, next: nullable({ type: 'string' }) },
} as const;

export const closeTaskInput = {
  type: 'object', additionalProperties: false,
  properties: { resolution: { type: 'string', maxLength: 1000, description: 'What was done (kept on the task, not in the event).' } },
} as const;

export const closeTaskResponse = {
  type: 'object', additionalProperties: false, required: ['task', 'closed', 'eventId', 'dispatched'],
  properties: {
    task,
    closed: { type: 'boolean', description: 'false: it was already done (a retried close); task.completed was emitted once.' },
    eventId: { type: 'string' },
    dispatched: { type: 'boolean' },
  },
} as const;
