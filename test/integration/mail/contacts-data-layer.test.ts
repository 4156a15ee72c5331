import Fastify, { type FastifyInstance } from 'fastify';
import { ConsentRecordModel } from '../../../data/consent-model';
import { getContact, isSuppressed, upsertContact } from '../../../data/contacts';
import { loadConfig } from '../../../lib/config';
import { LinkBuilder } from '../../../mail/links';
import { TokenSigner } from '../../../mail/tokens';
import { publicPlugin } from '../../../server/public';
import { useTestDatabase } from '../../helpers/db';
import { FORM, listen, request } from './fixtures/http';
import { startSmtpSink } from './fixtures/smtp-sink';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import { createMessagingActivities, dataLayerRecipientLoader } from '../../../activities/messaging';
import { ensureSendLedgerIndexes } from '../../../data/send-ledger';
import { createSmtpTransport } from '../../../mail/transport';

const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), publicBaseUrl: 'https://go.sojourn.test', mailDomain: 'sojourn.test' };
const links = new LinkBuilder(new TokenSigner(config.secret), config.publicBaseUrl, config.mailDomain);

describe('the public endpoints over the Contacts data layer (the default port)', () => {
  useTestDatabase('mail_datalayer');
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = Fastify();
    await app.register(publicPlugin, { config });
    base = await listen(app);
  });
  afterAll(() => app.close());

  it('unsubscribes through the data layer, which keeps a consent record with the request evidence', async () => {
    const { contact } = await upsertContact({ email: 'dl.one@example.com', firstName: 'Dee', consent: { email: 'subscribed' } });
    const id = String(contact._id);
    const res = await request(base, 'POST', new URL(links.unsubscribeUrl({ contactId: id })).pathname, { headers: { ...FORM, 'user-agent': 'TestMail/1.0' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.statusCode).toBe(200);
    expect((await getContact(id))!.consent.email.status).toBe('unsubscribed');
    const records = await ConsentRecordModel.find({ contactId: id }).lean();
    expect(records.map((r) => (r as unknown as { status: string }).status)).toContain('unsubscribed');
  });

  it('confirms a double opt-in and verifies an address through the data layer', async () => {
    const { contact } = await upsertContact({ email: 'dl.two@example.com', consent: { email: 'pending' } });
    const id = String(contact._id);
    expect((await request(base, 'POST', new URL(links.confirmUrl({ contactId: id })).pathname, { headers: FORM, body: '' })).statusCode).toBe(200);
    expect((await request(base, 'POST', new URL(links.verifyUrl({ contactId: id })).pathname, { headers: FORM, body: '' })).statusCode).toBe(200);
    const doc = await getContact(id);
    expect(doc!.consent.email.status).toBe('subscribed');
    expect(doc!.emailStatus).toBe('verified');
  });

  it('saves preferences as contact attributes', async () => {
    const { contact } = await upsertContact({ email: 'dl.three@example.com', consent: { email: 'subscribed' } });
    const url = new URL(links.preferencesUrl({ contactId: String(contact._id) })).pathname;
    expect((await request(base, 'POST', url, { headers: FORM, body: 'topics=offers&pause=90' })).statusCode).toBe(200);
    const doc = await getContact(String(contact._id));
    expect(doc!.attributes.emailTopics).toEqual({ news: false, offers: true });
    expect(typeof doc!.attributes.emailPausedUntil).toBe('string');
    expect(await isSuppressed(String(contact._id))).toBe(false);
  });

  it('sends to a data-layer contact through dataLayerRecipientLoader, and skips marketing once they unsubscribe', async () => {
    await ensureSendLedgerIndexes();
    const sink = await startSmtpSink();
    try {
      const { contact } = await upsertContact({ email: 'dl.four@example.com', firstName: 'Fei', locale: 'zh-CN', consent: { email: 'subscribed' } });
      const id = String(contact._id);
      const acts = createMessagingActivities({ config: { ...config, smtpUrl: sink.url }, transport: createSmtpTransport(sink.url), loadRecipient: dataLayerRecipientLoader(), logger: pino({ level: 'silent' }) });
      const send = (step: string) => acts.sendEmail({ key: `journey/welcome/${id}:${step}:0`, workflowId: `journey/welcome/${id}`, contactId: id, journeyId: 'welcome', stepId: step, templateId: 'welcome' });
      expect(await send('a')).toMatchObject({ status: 'sent' });
      const mail = await simpleParser(sink.messages[0]);
      expect(mail.subject).toBe('欢迎来到 Sojourn, Fei');
      expect((mail.to as { text: string }).text).toBe('dl.four@example.com');

      const unsubscribe = /<(https:[^>]+)>/.exec(mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line)![1];
      expect((await request(base, 'POST', new URL(unsubscribe).pathname, { headers: FORM, body: 'List-Unsubscribe=One-Click' })).statusCode).toBe(200);
      expect(await send('b')).toMatchObject({ status: 'failed', reason: 'skipped: unsubscribed' });
      expect(sink.messages).toHaveLength(1);
    } finally {
      await sink.close();
    }
  });
});
