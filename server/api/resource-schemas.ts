/**
 * JSON Schemas of the integrator resources (contacts listing and patch, consent, suppressions,
 * journeys, imports, webhooks) and of every success response. They are the OpenAPI document: the
 * contract test (test/integration/api/contract.test.ts) validates each real response against them,
 * and the typed client (client/) is generated from them.
 */
const str = (max = 200) => ({ type: 'string', maxLength: max }) as const;
const nullable = <T extends object>(s: T) => ({ anyOf: [s, { type: 'null' }] }) as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDate = nullable(dateTime);
const consentValue = { type: 'string', enum: ['subscribed', 'unsubscribed', 'pending', 'unknown'] } as const;
const objectId = { type: 'string', pattern: '^[0-9a-fA-F]{24}$' } as const;

/** A contact as the API returns it (server/api/index.ts apiContact). No phone digits. */
export const contactView = {
  $id: 'Contact',
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: objectId,
    externalId: nullable({ type: 'string' }),
    email: nullable({ type: 'string' }),
    emailDomain: nullable({ type: 'string' }),
    emailStatus: { type: 'string' },
    emailVerifiedAt: nullableDate,
    emailRole: { type: 'boolean' },
    emailDisposable: { type: 'boolean' },
    emailFlags: { type: 'object', additionalProperties: { type: 'boolean' } },
    firstName: nullable({ type: 'string' }),
    lastName: nullable({ type: 'string' }),
    locale: nullable({ type: 'string' }),
    timezone: nullable({ type: 'string' }),
    birthdayMonth: nullable({ type: 'integer' }),
    birthdayDay: nullable({ type: 'integer' }),
    tags: { type: 'array', items: { type: 'string' } },
    consent: { type: 'object', additionalProperties: false, properties: { email: consentValue, sms: consentValue, phone: consentValue } },
    doubleOptIn: { type: 'string' },
    source: nullable({ type: 'string' }),
    channel: nullable({ type: 'string' }),
    owner: nullable({ type: 'string' }),
    surveys: { type: 'object', additionalProperties: { type: 'object', properties: { score: { type: 'integer' }, comment: nullable({ type: 'string' }), at: { type: 'string', format: 'date-time' } } } },
    lifecycle: nullable({ type: 'string' }),
    importance: nullable({ type: 'string' }),
    rfm: nullable({ type: 'string' }),
    businessType: nullable({ type: 'string' }),
    rfmScore: {
      type: 'object',
      additionalProperties: false,
      description: 'RFM scores 0-5 (recency, frequency, monetary) from the order events, as of the last classification; null before it',
      properties: { recency: nullable({ type: 'integer' }), frequency: nullable({ type: 'integer' }), monetary: nullable({ type: 'integer' }) },
    },
    engagement: {
      type: 'object',
      additionalProperties: false,
      properties: {
        opens: { type: 'number' }, clicks: { type: 'number' }, orders: { type: 'number' }, revenue: { type: 'number' },
        lastOpenAt: nullableDate, lastClickAt: nullableDate, lastOrderAt: nullableDate,
      },
    },
    phones: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { type: nullable({ type: 'string' }), country: nullable({ type: 'string' }), source: nullable({ type: 'string' }) } } },
    lastActivityAt: nullableDate,
    createdAt: dateTime,
    updatedAt: dateTime,
    attributes: { type: 'object', additionalProperties: true },
  },
} as const;

export const CONTACT_FIELDS_SELECTABLE = Object.keys(contactView.properties).filter((k) => k !== 'id');

export const listContactsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Contacts per page' },
    cursor: { type: 'string', maxLength: 200, description: 'The `next` value of the previous page, unchanged' },
    segment: { type: 'string', maxLength: 100, description: 'Only contacts in this segment of the deployed rules' },
    tag: { type: 'string', maxLength: 64, description: 'Only contacts with this tag' },
    updatedSince: { type: 'string', format: 'date-time', description: 'Only contacts changed at or after this instant' },
    fields: { type: 'string', maxLength: 500, pattern: '^[A-Za-z]+(,[A-Za-z]+)*$', description: `Comma-separated fields to return besides id: ${CONTACT_FIELDS_SELECTABLE.join(', ')}` },
  },
} as const;

export const contactPage = {
  type: 'object',
  additionalProperties: false,
  required: ['contacts', 'next', 'pushedDown'],
  properties: {
    contacts: { type: 'array', items: contactView },
    next: nullable({ type: 'string' }),
    pushedDown: { type: 'boolean', description: 'true: no filter, the page is one `_id` range read from the database; false: a segment, tag or update-time filter was evaluated over at most 5,000 contacts beyond the page size (the page may then hold fewer than `limit` contacts; only `next: null` ends the listing)' },
  },
} as const;

const warning = {
  type: 'object',
  required: ['code', 'message', 'pointer'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, pointer: { type: 'string' }, kind: { type: 'string' }, value: { type: 'string' } },
} as const;

export const contactPatch = {
  type: 'object',
  additionalProperties: false,
  description: 'JSON Merge Patch (RFC 7396): a value sets, null removes, absent leaves alone; attributes merge by key; tags are replaced.',
  properties: {
    firstName: nullable(str()),
    lastName: nullable(str()),
    locale: nullable(str(35)),
    timezone: nullable(str(64)),
    channel: nullable(str(64)),
    birthday: nullable({
      anyOf: [
        { type: 'string', maxLength: 10 },
        { type: 'object', additionalProperties: false, required: ['month', 'day'], properties: { month: { type: 'integer', minimum: 1, maximum: 12 }, day: { type: 'integer', minimum: 1, maximum: 31 }, year: nullable({ type: 'integer' }) } },
      ],
    }),
    tags: nullable({ type: 'array', maxItems: 100, items: str(64) }),
    attributes: nullable({ type: 'object', maxProperties: 100 }),
  },
} as const;

export const contactPatchResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'changed', 'warnings', 'contact'],
  properties: { id: objectId, changed: { type: 'boolean' }, warnings: { type: 'array', items: warning }, contact: contactView },
} as const;

export const consentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['channel', 'status', 'evidence'],
  properties: {
    channel: { type: 'string', enum: ['email', 'sms', 'phone'] },
    status: { type: 'string', enum: ['subscribed', 'unsubscribed', 'pending'] },
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['wording'],
      description: 'Stored with the consent record: the wording version shown, where the person was, and how.',
      properties: { wording: str(100), ip: nullable(str(64)), userAgent: nullable(str(512)), source: str(64) },
    },
  },
} as const;

export const consentResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'changed', 'consent', 'ignored'],
  properties: {
    id: objectId,
    changed: { type: 'boolean' },
    consent: contactView.properties.consent,
    recordId: nullable({ type: 'string' }),
    ignored: { type: 'array', items: warning },
  },
} as const;

export const addressBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  properties: { email: str(320), reason: { type: 'string', enum: ['manual', 'hard_bounce', 'complaint', 'unsubscribed'], default: 'manual' } },
} as const;

export const suppressionState = {
  type: 'object',
  additionalProperties: false,
  required: ['suppressed', 'reason', 'since'],
  properties: { suppressed: { type: 'boolean' }, reason: nullable({ type: 'string' }), since: nullableDate, created: { type: 'boolean' }, removed: { type: 'boolean' } },
} as const;

// ---- journeys ----

export const journeyIdParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' } },
} as const;

export const journeyContactParams = {
  type: 'object', required: ['id', 'contactId'], additionalProperties: false,
  properties: { id: journeyIdParams.properties.id, contactId: objectId },
} as const;

const journeySummary = {
  type: 'object',
  additionalProperties: false,
  required: ['journeyId', 'liveVersion', 'paused', 'triggerKind', 'triggerEvent', 'versions'],
  properties: {
    journeyId: { type: 'string' },
    liveVersion: { type: 'integer' },
    paused: { type: 'boolean' },
    triggerKind: { type: 'string' },
    triggerEvent: nullable({ type: 'string' }),
    versions: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['version', 'hash', 'deployedAt', 'live'], properties: { version: { type: 'integer' }, hash: { type: 'string' }, deployedAt: dateTime, live: { type: 'boolean' } } },
    },
  },
} as const;

export const journeyList = { type: 'object', additionalProperties: false, required: ['journeys'], properties: { journeys: { type: 'array', items: journeySummary } } } as const;

export const pauseResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['journeyId', 'paused', 'schedule'],
  properties: { journeyId: { type: 'string' }, paused: { type: 'boolean' }, schedule: { type: 'string', enum: ['changed', 'unchanged', 'none', 'failed'] }, scheduleError: { type: 'string' } },
} as const;

const runStatus = {
  type: 'object',
  additionalProperties: false,
  required: ['journeyId', 'version', 'contactId', 'step', 'waitingFor', 'until', 'reason', 'iteration'],
  properties: {
    journeyId: { type: 'string' }, version: { type: 'integer' }, contactId: { type: 'string' },
    step: nullable({ type: 'string' }), waitingFor: nullable({ type: 'string' }), until: nullable({ type: 'string' }),
    reason: nullable({ type: 'string' }), iteration: { type: 'integer' }, outcome: { type: 'string' },
  },
} as const;

export const contactRunsResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['journeyId', 'contactId', 'runs'],
  properties: {
    journeyId: { type: 'string' },
    contactId: { type: 'string' },
    runs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['workflowId', 'runId', 'period', 'version', 'execution', 'startedAt', 'closedAt', 'status'],
        properties: {
          workflowId: { type: 'string' }, runId: { type: 'string' }, period: nullable({ type: 'string' }), version: nullable({ type: 'integer' }),
          execution: { type: 'string', description: 'RUNNING, COMPLETED, CONTINUED_AS_NEW, TERMINATED, ...' },
          startedAt: dateTime, closedAt: nullableDate, status: nullable(runStatus),
        },
      },
    },
  },
} as const;

export const waitingResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['journeyId', 'running', 'byStep'],
  properties: { journeyId: { type: 'string' }, running: { type: 'integer' }, byStep: { type: 'object', additionalProperties: { type: 'integer' } } },
} as const;

// ---- imports ----

export const importQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dryRun: { type: 'boolean', default: false, description: 'Check and count only; write nothing' },
    map: { type: 'string', maxLength: 2000, description: 'Column mapping as in the CLI: `column=field` pairs separated by commas' },
  },
} as const;

export const importIdParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: '^imp_[0-9a-f]{24}$' } } } as const;

export const importJob = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'state', 'rowsTotal', 'rowsDone', 'ratePerSecond', 'etaSeconds', 'createdAt', 'summary', 'errors'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
    dryRun: { type: 'boolean' },
    rowsTotal: { type: 'integer', description: 'Lines of the uploaded file less the header (quoted multi-line cells make it approximate)' },
    rowsDone: { type: 'integer' },
    ratePerSecond: nullable({ type: 'number' }),
    etaSeconds: nullable({ type: 'number' }),
    createdAt: dateTime,
    startedAt: nullableDate,
    finishedAt: nullableDate,
    error: nullable({ type: 'string' }),
    restarts: { type: 'integer', description: 'Times another server process took the job over (and resumed it) after the one running it stopped' },
    summary: nullable({
      type: 'object',
      description: 'The report of `sojourn contacts import --format json`',
      additionalProperties: true,
      properties: {
        rows: { type: 'integer' }, created: { type: 'integer' }, updated: { type: 'integer' }, unchanged: { type: 'integer' },
        duplicates: { type: 'integer' }, rejected: { type: 'integer' }, dryRun: { type: 'boolean' },
        rejectedByReason: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    }),
    errors: {
      type: 'array',
      description: 'The first rejected rows (row numbers count the header as row 1)',
      items: { type: 'object', additionalProperties: false, required: ['row', 'code', 'field', 'message'], properties: { row: { type: 'integer' }, code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

// ---- webhooks ----

export const webhookIdParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: '^wh_[0-9a-f]{24}$' } } } as const;
export const deliveryParams = {
  type: 'object', required: ['id', 'eventId'], additionalProperties: false,
  properties: { id: webhookIdParams.properties.id, eventId: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const webhookInput = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'events'],
  properties: {
    url: { type: 'string', format: 'uri', maxLength: 2000, pattern: '^https?://', description: 'Receives a POST per event' },
    events: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'string', pattern: '^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+)$', maxLength: 64 }, description: 'Event names, e.g. email.bounced, email.unsubscribed, journey.converted; `*` for all' },
    description: str(200),
  },
} as const;

const webhook = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'events', 'active', 'createdAt'],
  properties: {
    id: { type: 'string' }, url: { type: 'string' }, events: { type: 'array', items: { type: 'string' } }, active: { type: 'boolean' },
    description: nullable({ type: 'string' }), createdAt: dateTime,
    secret: { type: 'string', description: 'Signing secret; returned only when the webhook is created' },
  },
} as const;
export const webhookResponse = webhook;
export const webhookList = { type: 'object', additionalProperties: false, required: ['webhooks'], properties: { webhooks: { type: 'array', items: webhook } } } as const;

export const deliveriesQuery = {
  type: 'object', additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, cursor: { type: 'string', maxLength: 300 } },
} as const;

const delivery = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'eventId', 'event', 'state', 'attempts', 'createdAt'],
  properties: {
    id: { type: 'string' }, eventId: { type: 'string' }, event: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: { type: 'integer' }, nextAttemptAt: nullableDate, lastStatus: nullable({ type: 'integer' }), lastError: nullable({ type: 'string' }),
    createdAt: dateTime, deliveredAt: nullableDate,
  },
} as const;
export const deliveryResponse = delivery;
export const deliveryPage = { type: 'object', additionalProperties: false, required: ['deliveries', 'next'], properties: { deliveries: { type: 'array', items: delivery }, next: nullable({ type: 'string' }) } } as const;

export const deletedResponse = { type: 'object', additionalProperties: false, required: ['deleted'], properties: { deleted: { type: 'boolean' } } } as const;

// ---- success responses of the core contact and event routes (server/api/index.ts) ----

const inputProblem = warning;
export const upsertResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'created', 'merged', 'changed', 'ignored', 'contact'],
  properties: {
    id: objectId, created: { type: 'boolean' }, merged: { type: 'boolean' }, changed: { type: 'boolean' },
    ignored: { type: 'array', items: inputProblem }, warnings: { type: 'array', items: inputProblem },
    dispatched: { type: 'boolean', description: 'A lifecycle event (contact.created) reached the engine; false: it waits in the outbox' },
    contact: contactView,
  },
} as const;
export const getContactResponse = { type: 'object', additionalProperties: false, required: ['contact'], properties: { contact: contactView } } as const;
export const searchResponse = {
  type: 'object', additionalProperties: false, required: ['pushedDown', 'contacts', 'next'],
  properties: { pushedDown: { type: 'boolean' }, contacts: { type: 'array', items: contactView }, next: nullable({ type: 'string' }), scanned: { type: 'integer' }, complete: { type: 'boolean' } },
} as const;
export const tagsResponse = { type: 'object', additionalProperties: false, required: ['changed', 'tags'], properties: { changed: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } } } } as const;
export const exportResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['contact', 'phones', 'consentRecords', 'events', 'suppressed', 'exportedAt'],
  description: 'Everything stored about the person (GDPR/PIPL access), phone numbers decrypted',
  properties: {
    contact: { type: 'object', additionalProperties: true },
    phones: { type: 'array', items: { type: 'object', additionalProperties: true, properties: { e164: { type: 'string' } } } },
    consentRecords: { type: 'array', items: { type: 'object', additionalProperties: true } },
    events: { type: 'array', items: { type: 'object', additionalProperties: true } },
    suppressed: { type: 'boolean' },
    exportedAt: dateTime,
  },
} as const;
export const eraseResponse = { type: 'object', additionalProperties: false, required: ['erased', 'alreadyErased'], properties: { erased: { type: 'boolean' }, alreadyErased: { type: 'boolean' } } } as const;
export const eventResult = {
  type: 'object', additionalProperties: false, required: ['eventId', 'duplicate', 'dispatched'],
  properties: { eventId: { type: 'string' }, duplicate: { type: 'boolean' }, dispatched: { type: 'boolean' }, machine: { type: 'boolean' } },
} as const;
export const eventBatchResponse = { type: 'object', additionalProperties: false, required: ['results'], properties: { results: { type: 'array', items: eventResult } } } as const;
