/**
 * Fuzz: the survey page (/s/<token>) and the owner and task routes of the real HTTP app on the real
 * database. Generated form bodies on valid survey links, mutated survey tokens, generated owner and
 * close bodies and task listings: never a 5xx, a throw or a hang; a refused answer stores nothing on the
 * contact and emits no event; an accepted one stores exactly the score and comment that were posted.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../server/app';
import { loadConfig } from '../../lib/config';
import { createIngest } from '../../engine/ingest';
import { useTestDatabase } from '../helpers/db';
import { initDatabase } from '../../data/db';
import { getContact, upsertContact } from '../../data/contacts';
import { ContactEventModel } from '../../data/contact-event-model';
import { OwnerModel } from '../../data/owners';
import { createTask, getTask } from '../../data/tasks';
import { LinkBuilder } from '../../mail/links';
import { TokenSigner } from '../../mail/tokens';
import { mutationArb } from '../helpers/token-mutations';
import { report, runCase, tally } from './harness';

const API_KEY = 'fuzz-api-key-0123456789abcdef0123456789';
const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY };
const links = new LinkBuilder(new TokenSigner(config.secret), config.publicBaseUrl, config.mailDomain);
const pathOf = (url: string) => new URL(url).pathname;

/** Form bodies a browser, a bot or an attacker might post: valid-looking, broken, huge, repeated, binary. */
const formBody: fc.Arbitrary<{ type: string; payload: string | Buffer }> = fc.oneof(
  fc.record({ score: fc.oneof(fc.integer({ min: -3, max: 13 }).map(String), fc.string({ maxLength: 6 }), fc.constantFrom('3.0', '+3', ' 3', '3 ', '0x3', '03', '', '１')), comment: fc.oneof(fc.string({ maxLength: 1200 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constant('x'.repeat(1001))) }, { requiredKeys: [] })
    .map((o) => ({ type: 'application/x-www-form-urlencoded', payload: new URLSearchParams(o as Record<string, string>).toString() })),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 11 }), { minLength: 2, maxLength: 4 }), fc.string({ maxLength: 50 })).map(([scores, c]) => ({ type: 'application/x-www-form-urlencoded', payload: `${scores.map((s) => `score=${s}`).join('&')}&comment=${encodeURIComponent(c)}&comment=again` })),
  fc.string({ maxLength: 400 }).map((s) => ({ type: 'application/x-www-form-urlencoded', payload: s })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ type: 'application/json', payload: JSON.stringify(v) ?? 'null' })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ type: 'multipart/form-data; boundary=x', payload: Buffer.from(b) })),
  fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({ type: 'application/x-www-form-urlencoded', payload: `score=3&comment=${'y'.repeat(n)}` })),
);

describe('fuzz: the survey page and the task routes', () => {
  useTestDatabase('fuzzsurvey');
  let app: FastifyInstance;
  let contactId: string;
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config, logLevel: 'silent', ingest: createIngest({ dispatcher: null }) });
    await app.ready();
    contactId = String((await upsertContact({ email: 'fuzz.survey@example.com', consent: { email: 'subscribed' } })).contact._id);
  }, 60_000);
  afterAll(async () => app?.close());

  const answer = async () => (await getContact(contactId))?.surveys?.fuzz_csat ?? null;
  const events = async () => ContactEventModel.countDocuments({ contactId, name: 'survey.answered' });

  it('answers 1,200 generated survey posts and mutated links without a 5xx, storing only what it accepts', async () => {
    const t = tally();
    const statuses: Record<string, number> = {};
    const cases = fc.sample(fc.tuple(fc.constantFrom<'csat' | 'nps'>('csat', 'nps'), fc.nat(), formBody, fc.option(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), { nil: undefined }), fc.constantFrom('GET', 'POST', 'POST')), { numRuns: 1200, seed: 2026 });
    for (const [scale, pick, body, mutations, method] of cases) {
      const score = scale === 'csat' ? 1 + (pick % 5) : pick % 11;
      const url = pathOf(links.surveyUrl({ id: 'fuzz_csat', scale, score }, { contactId }));
      const token = url.slice(3);
      const mutated = mutations ? mutations.reduce((x, m) => m.apply(x), token) : token;
      const path = `/s/${mutated.replace(/[\s%#?]/g, (c) => encodeURIComponent(c))}`;
      const input = { method, path, body: typeof body.payload === 'string' ? body.payload.slice(0, 200) : '<bytes>', type: body.type };
      const before = { answer: JSON.stringify(await answer()), events: await events() };
      await runCase(t, input, () => app.inject({ method: method as 'POST', url: path, payload: method === 'POST' ? body.payload : undefined, headers: { 'content-type': body.type } }), async (res) => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) return `answered ${res.statusCode}: ${res.body.slice(0, 200)}`;
        const after = { answer: await answer(), events: await events() };
        if (method === 'GET' || res.statusCode >= 400) {
          if (JSON.stringify(after.answer) !== before.answer || after.events !== before.events) return `${method} answered ${res.statusCode} but stored something`;
          return null;
        }
        if (mutated !== token) return `a mutated token was accepted (${res.statusCode})`;
        // Accepted: exactly the posted score, on the scale, and the posted comment (trimmed, at most 1,000).
        const form = body.type.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.payload.toString()) : null;
        const posted = form?.getAll('score') ?? [];
        if (!after.answer || posted.length !== 1 || String(after.answer.score) !== String(Number(posted[0]))) return `accepted ${JSON.stringify(after.answer)} for posted scores ${JSON.stringify(posted)}`;
        if (scale === 'csat' ? after.answer.score < 1 || after.answer.score > 5 : after.answer.score < 0 || after.answer.score > 10) return `stored off-scale ${after.answer.score}`;
        if ((after.answer.comment ?? '').length > 1000) return 'stored a comment over 1,000 characters';
        return null;
      });
    }
    console.log(report('survey page', t, `status codes ${JSON.stringify(statuses)}`));
    expect(t.failures).toEqual([]);
    expect(statuses[200]).toBeGreaterThan(50);
    expect(Object.keys(statuses).some((s) => s.startsWith('4'))).toBe(true);
  }, 300_000);

  it('answers 600 generated owner, close and listing requests without a 5xx, changing nothing it refuses', async () => {
    const t = tally();
    const statuses: Record<string, number> = {};
    const { task } = await createTask({ key: `fuzz:${contactId}:call:0`, contactId, ownerId: null, journeyId: 'fuzz', stepId: 'call', title: 'Call', why: '', due: new Date(), createdAt: new Date() });
    const ownerBody = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ name: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()), email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 40 })), crmId: fc.oneof(fc.string({ maxLength: 200 }), fc.constant(null)) }, { requiredKeys: [] }),
    );
    const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,70}$/), fc.string({ maxLength: 80 }).map(encodeURIComponent));
    const request = fc.oneof(
      fc.tuple(id, ownerBody).map(([i, b]) => ({ method: 'PUT', url: `/v1/owners/${i}`, payload: JSON.stringify(b) ?? 'null', kind: 'owner' as const })),
      fc.tuple(fc.oneof(fc.constant(task._id), fc.string({ maxLength: 30 }).map(encodeURIComponent)), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ resolution: fc.oneof(fc.string({ maxLength: 1100 }), fc.integer()) }))).map(([i, b]) => ({ method: 'POST', url: `/v1/tasks/${i}/close`, payload: JSON.stringify(b) ?? 'null', kind: 'close' as const })),
      fc.record({ status: fc.string({ maxLength: 8 }), owner: fc.string({ maxLength: 70 }), contactId: fc.string({ maxLength: 30 }), limit: fc.integer({ min: -2, max: 600 }).map(String), cursor: fc.string({ maxLength: 120 }) }, { requiredKeys: [] })
        .map((q) => ({ method: 'GET', url: `/v1/tasks?${new URLSearchParams(q as Record<string, string>).toString()}`, payload: undefined, kind: 'list' as const })),
    );
    const cases = fc.sample(request, { numRuns: 600, seed: 77 });
    for (const r of cases) {
      const owners = await OwnerModel.countDocuments();
      const open = (await getTask(task._id))?.status;
      await runCase(t, r, () => app.inject({ method: r.method as 'POST', url: r.url, payload: r.payload, headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` } }), async (res) => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) return `answered ${res.statusCode}: ${res.body.slice(0, 200)}`;
        if (res.statusCode >= 400) {
          if (r.kind === 'owner' && (await OwnerModel.countDocuments()) !== owners) return `refused with ${res.statusCode} but stored an owner`;
          if (r.kind === 'close' && (await getTask(task._id))?.status !== open) return `refused with ${res.statusCode} but closed the task`;
        }
        return null;
      });
    }
    console.log(report('owner and task routes', t, `status codes ${JSON.stringify(statuses)}`));
    expect(t.failures).toEqual([]);
    expect(statuses[200] ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
