/**
 * JSON Schemas of the HTTP API (also the OpenAPI document). Strict: unknown properties are errors,
 * so a typo is reported with its JSON pointer instead of being silently dropped.
 */
const str = (max = 200) => ({ type: 'string', maxLength: max });
const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
const consentStatus = { type: 'string', enum: ['subscribed', 'unsubscribed', 'pending'] };

export const contactIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[0-9a-fA-F]{24}$', description: 'Contact id' } },
} as const;

export const contactInput = {
  $id: 'ContactInput',
  type: 'object',
  additionalProperties: false,
  description: 'Upsert by externalId or email (dedupe key: lower-cased, IDN domain as ASCII). Unsubscribed consent is never undone by an upsert.',
  properties: {
    email: nullable(str(320)),
    externalId: nullable(str(128)),
    phone: nullable(str(40)),
    phoneCountry: nullable({ type: 'string', pattern: '^[A-Za-z]{2}$' }),
    firstName: nullable(str()),
    lastName: nullable(str()),
    locale: nullable(str(35)),
    timezone: nullable(str(64)),
    birthday: nullable({
      anyOf: [
        { type: 'string', maxLength: 10 },
        {
          type: 'object', additionalProperties: false, required: ['month', 'day'],
          properties: { month: { type: 'integer', minimum: 1, maximum: 12 }, day: { type: 'integer', minimum: 1, maximum: 31 }, year: nullable({ type: 'integer' }) },
        },
      ],
    }),
    tags: { type: 'array', maxItems: 100, items: str(64) },
    attributes: { type: 'object', maxProperties: 100 },
    channel: nullable(str(64)),
    owner: nullable({ type: 'string', maxLength: 64, description: 'Owner (user) id: who gets the tasks of task steps (PUT /v1/owners/{id}).' }),
    consent: {
      type: 'object', additionalProperties: false,
      properties: { email: consentStatus, sms: consentStatus, phone: consentStatus },
    },
    consentContext: {
      type: 'object', additionalProperties: false,
      properties: { wording: nullable(str(100)), ip: nullable(str(64)), userAgent: nullable(str(512)) },
    },
  },
} as const;

/** Query of the contacts upsert: only `strict` is read; other parameters are ignored (and never logged). */
export const upsertQuery = {
  type: 'object',
  properties: { strict: { type: 'string', enum: ['true', 'false'], description: 'true: reject the request on any bad field instead of leaving it unset' } },
} as const;

export const tagsBody = {
  type: 'object',
  required: ['tags'],
  additionalProperties: false,
  properties: { tags: { type: 'array', minItems: 1, maxItems: 100, items: str(64) } },
} as const;

export const eventInput = {
  $id: 'EventInput',
  type: 'object',
  required: ['contactId', 'name'],
  additionalProperties: false,
  properties: {
    eventId: { type: 'string', minLength: 1, maxLength: 128, description: 'Idempotency key: the same eventId is stored and counted once.' },
    contactId: { type: 'string', pattern: '^[0-9a-fA-F]{24}$' },
    name: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$', maxLength: 64, description: 'e.g. order.completed, email.clicked' },
    at: { type: 'string', format: 'date-time' },
    data: { type: 'object', maxProperties: 100 },
  },
} as const;

export const eventBatch = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array', minItems: 1, maxItems: 500, items: eventInput } },
} as const;

export const searchBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    segment: { type: 'string', maxLength: 100, description: 'Name of a segment from the deployed rules' },
    expression: { type: 'string', maxLength: 2000, description: 'A CEL segment expression over `contact`' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    after: { type: 'string', pattern: '^[0-9a-fA-F]{24}$', description: 'Page after this contact id' },
  },
  oneOf: [{ required: ['segment'] }, { required: ['expression'] }],
} as const;

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, pointer: { type: 'string' } },
    },
  },
} as const;
