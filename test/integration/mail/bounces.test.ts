import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Send } from '../../../data/send-ledger';
import { loadConfig } from '../../../lib/config';
import { ingestReport } from '../../../mail/bounces';
import { collectionContactsPort } from '../../../mail/contacts-port';
import type { EmailEvent } from '../../../mail/events';
import { publicPlugin } from '../../../server/public';
import { useTestDatabase } from '../../helpers/db';
import { contactDoc, insertContact } from './fixtures/contacts';
import { listen, request } from './fixtures/http';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', name));
const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), mailDomain: 'sojourn.test', apiKey: 'bounce-key' };

async function ledgerRow(contactId: string, hex: string): Promise<void> {
  await Send.create({
    key: `journey/welcome/${contactId}:s1:0`, workflowId: `journey/welcome/${contactId}`, contactId, journeyId: 'welcome', stepId: 's1',
    templateId: 'welcome', marketing: true, status: 'sent', messageId: `<${hex}@sojourn.test>`, createdAt: new Date(), sentAt: new Date(),
  });
}

describe('bounces and complaints', () => {
  useTestDatabase('mail_bounces');
  const events: EmailEvent[] = [];
  const deps = () => ({ contacts: collectionContactsPort(), onEvent: async (e: EmailEvent) => void events.push(e), mailDomain: 'sojourn.test' });
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    await insertContact({ _id: 'c-hard', email: 'nobody@example.net' });
    await insertContact({ _id: 'c-soft', email: 'full@example.net' });
    await insertContact({ _id: 'c-angry', email: 'angry@example.org' });
    await ledgerRow('c-hard', '0123456789abcdef0123456789abcdef');
    await ledgerRow('c-soft', 'fedcba9876543210fedcba9876543210');
    await ledgerRow('c-angry', '00112233445566778899aabbccddeeff');
    app = Fastify();
    await app.register(publicPlugin, { config, contacts: collectionContactsPort(), onEvent: deps().onEvent });
    base = await listen(app);
  });
  afterAll(() => app.close());

  it('marks a hard bounce as bounced and suppressed, and signals the run that sent the email', async () => {
    const result = await ingestReport(fixture('dsn-hard.eml'), deps());
    expect(result).toMatchObject({ classification: 'hard', effect: 'bounced', contactId: 'c-hard', sendKey: 'journey/welcome/c-hard:s1:0' });
    expect(await contactDoc('c-hard')).toMatchObject({ emailStatus: 'bounced', suppressed: true, suppressedReason: 'hard_bounce' });
    expect(events.at(-1)).toMatchObject({ name: 'email.bounced', contactId: 'c-hard', data: { type: 'hard', status: '5.1.1', workflowId: 'journey/welcome/c-hard' } });
    expect(await Send.findOne({ contactId: 'c-hard' }).lean()).toMatchObject({ bounceType: 'hard', bounceCode: '5.1.1' });
  });

  it('reports a soft bounce without changing the email status', async () => {
    const result = await ingestReport(fixture('dsn-soft.eml'), deps());
    expect(result).toMatchObject({ classification: 'soft', effect: 'soft', contactId: 'c-soft' });
    expect(await contactDoc('c-soft')).toMatchObject({ emailStatus: 'verified' });
    expect((await contactDoc('c-soft'))!.suppressed).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ name: 'email.bounced', data: { type: 'soft' } });
  });

  it('accepts an ARF complaint on POST /bounces with the API key: complained, unsubscribed, suppressed', async () => {
    const denied = await request(base, 'POST', '/bounces', { headers: { 'content-type': 'message/rfc822' }, body: fixture('arf-complaint.eml') });
    expect(denied.statusCode).toBe(401);
    expect((await contactDoc('c-angry'))!.emailStatus).toBe('verified');

    const res = await request(base, 'POST', '/bounces', { headers: { 'content-type': 'message/rfc822', 'x-api-key': 'bounce-key' }, body: fixture('arf-complaint.eml') });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ type: 'arf', classification: 'complaint', effect: 'complained', contactId: 'c-angry' });
    expect(await contactDoc('c-angry')).toMatchObject({ emailStatus: 'complained', suppressed: true, consent: { email: { status: 'unsubscribed' } } });
    expect(events.at(-1)).toMatchObject({ name: 'email.complained', contactId: 'c-angry' });
  });

  it('gives the same event id when the same report arrives twice, so consumers deduplicate', async () => {
    const a = await ingestReport(fixture('dsn-hard.eml'), deps());
    const b = await ingestReport(fixture('dsn-hard.eml'), deps());
    expect(a.eventId).toEqual(expect.any(String));
    expect(a.eventId).toBe(b.eventId);
  });
});
