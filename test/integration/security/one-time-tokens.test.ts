/**
 * A used one-time link (double opt-in confirm, address verification) is refused in every encoding,
 * through the real public endpoint: percent-encoded spellings reach the same token and get 409 (used),
 * altered ones get 400; none changes anything a second time.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../server/app';
import { loadConfig } from '../../../lib/config';
import { TokenSigner } from '../../../mail/tokens';
import { UsedToken } from '../../../data/used-tokens';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { ConsentRecordModel } from '../../../data/consent-model';
import { mutationArb } from '../../helpers/token-mutations';

const API_KEY = 'one-time-token-key-0123456789abcdef0123';

function encodings(token: string): string[] {
  const out = new Set<string>();
  const pct = (c: string, lower: boolean) => '%' + (lower ? c.charCodeAt(0).toString(16) : c.charCodeAt(0).toString(16).toUpperCase()).padStart(2, '0');
  for (let i = 0; i < token.length; i += 7) for (const lower of [false, true]) out.add(token.slice(0, i) + pct(token[i], lower) + token.slice(i + 1));
  out.add([...token].map((c) => pct(c, false)).join(''));
  out.add(token.replace('.', '%2E'));
  return [...out];
}

describe('one-time tokens after use', () => {
  useTestDatabase('onetime');
  const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY };
  const signer = new TokenSigner(config.secret);
  let app: FastifyInstance;
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config, logLevel: 'silent' });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it.each([['c', 'confirm'], ['v', 'verify']] as const)('/%s/<token> (%s) is refused in every encoding once used', async (route, purpose) => {
    const created = await app.inject({ method: 'POST', url: '/v1/contacts', headers: { authorization: `Bearer ${API_KEY}` }, payload: { email: `${purpose}.once@example.com`, consent: { email: 'pending' } } });
    expect(created.statusCode).toBe(201);
    const contactId = created.json().id as string;
    const token = signer.sign({ purpose, contactId });
    const post = (t: string) => app.inject({ method: 'POST', url: `/${route}/${t}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect((await post(token)).statusCode).toBe(200);
    const records = await ConsentRecordModel.countDocuments({ contactId });
    const used = await UsedToken.countDocuments();

    const counts = { used409: 0, invalid400: 0 };
    const spellings = encodings(token);
    const mutated = fc.sample(mutationArb, { numRuns: 150, seed: 2026 }).map((m) => m.apply(token)).filter((t) => t !== token && t.length > 0);
    for (const t of [token, ...spellings, ...mutated]) {
      const res = await post(encodeURIComponent(t));
      if (res.statusCode === 409) counts.used409++;
      else if (res.statusCode === 400 || res.statusCode === 404) counts.invalid400++;
      else throw new Error(`${JSON.stringify(t)} answered ${res.statusCode}`);
    }
    // Each spelling that decodes to the token itself is recognised as the used token.
    for (const s of spellings) expect((await app.inject({ method: 'POST', url: `/${route}/${s}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })).statusCode).toBe(409);
    expect(counts.used409).toBeGreaterThanOrEqual(1);
    expect(await ConsentRecordModel.countDocuments({ contactId })).toBe(records);
    expect(await UsedToken.countDocuments()).toBe(used);
    console.log(`${purpose}: used token replayed ${1 + spellings.length + mutated.length} ways plus ${spellings.length} raw percent-encoded paths: ${counts.used409 + spellings.length} refused as used (409), ${counts.invalid400} refused as invalid (400/404), 0 accepted`);
  }, 60_000);
});
