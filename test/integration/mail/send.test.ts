import pino from 'pino';
import Fastify, { type FastifyInstance } from 'fastify';
import { simpleParser, type ParsedMail } from 'mailparser';
import { ApplicationFailure } from '@temporalio/common';
import { createMessagingActivities } from '../../../activities/messaging';
import { ensureSendLedgerIndexes, Send } from '../../../data/send-ledger';
import { loadConfig } from '../../../lib/config';
import { createSmtpTransport } from '../../../mail/transport';
import type { EmailEvent } from '../../../mail/events';
import { collectionContactsPort } from '../../../mail/contacts-port';
import { publicPlugin } from '../../../server/public';
import { useTestDatabase } from '../../helpers/db';
import { contactDoc, insertContact, loadRecipient } from './fixtures/contacts';
import { FORM, listen, request } from './fixtures/http';
import { startSmtpSink, type SmtpSink } from './fixtures/smtp-sink';

const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), publicBaseUrl: 'https://go.sojourn.test', mailDomain: 'sojourn.test', secret: 'test-secret', postalAddress: 'Sojourn Test Ltd, 1 Example Road, Shanghai' };

/** A header as sent (unfolded), from the parsed message's raw header lines. */
function header(m: ParsedMail, name: string): string | undefined {
  const line = m.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line?.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}

function input(stepId: string, templateId = 'welcome', contactId = 'c-ana') {
  const workflowId = `journey/welcome/${contactId}`;
  return { key: `${workflowId}:${stepId}:0`, workflowId, contactId, journeyId: 'welcome', stepId, templateId, vars: {} };
}

describe('sending an email through a real SMTP server', () => {
  useTestDatabase('mail_send');
  let sink: SmtpSink;
  let app: FastifyInstance;
  let base: string;
  const events: EmailEvent[] = [];
  let acts: ReturnType<typeof createMessagingActivities>;

  beforeAll(async () => {
    await ensureSendLedgerIndexes();
    sink = await startSmtpSink();
    acts = createMessagingActivities({ config: { ...config, smtpUrl: sink.url }, transport: createSmtpTransport(sink.url), loadRecipient, logger: pino({ level: 'silent' }) });
    app = Fastify();
    await app.register(publicPlugin, { config, contacts: collectionContactsPort(), onEvent: async (e) => void events.push(e) });
    base = await listen(app);
    await insertContact({ _id: 'c-ana', email: 'ana.li@example.com', firstName: 'Ana' });
    await insertContact({ _id: 'c-bo', email: 'bo@example.com', firstName: null, locale: 'zh-CN' });
    await insertContact({ _id: 'c-gone', email: 'gone@example.com', consent: { email: { status: 'unsubscribed' } } });
  });
  afterAll(async () => {
    await app.close();
    await sink.close();
  });

  let mail: ParsedMail;
  it('sends a marketing email that a MIME parser reads back with correct headers, a text part and an HTML part', async () => {
    const result = await acts.sendEmail(input('s1'));
    expect(result).toEqual({ status: 'sent', messageId: expect.stringMatching(/^<[0-9a-f]{32}@sojourn\.test>$/) });
    expect(sink.messages).toHaveLength(1);
    mail = await simpleParser(sink.messages[0]);

    expect(mail.messageId).toBe((result as { messageId: string }).messageId);
    expect(mail.subject).toBe('Welcome to Sojourn, Ana');
    expect((mail.to as { value: { address: string }[] }).value[0].address).toBe('ana.li@example.com');
    expect(header(mail, 'list-id')).toMatch(/<welcome\.sojourn\.test>/);
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const listUnsubscribe = String(header(mail, 'list-unsubscribe'));
    expect(listUnsubscribe).toMatch(/^<https:\/\/go\.sojourn\.test\/u\/[\w-]+\.[\w-]+>, <mailto:unsubscribe@sojourn\.test\?subject=[^>]+>$/);

    expect(mail.html).toContain('Welcome, Ana!');
    expect(mail.html).toContain('Sojourn Test Ltd, 1 Example Road, Shanghai');
    expect(mail.text).toContain('Welcome, Ana!');
    expect(mail.text).toContain('Sojourn Test Ltd, 1 Example Road, Shanghai');
    expect(mail.text).toMatch(/Unsubscribe\s+<https:\/\/go\.sojourn\.test\/u\//);

    const row = await Send.findOne({ key: input('s1').key }).lean();
    expect(row).toMatchObject({ status: 'sent', marketing: true, contactId: 'c-ana', messageId: mail.messageId, smtpCode: 250 });
  });

  it('puts no email address in any URL of the message or its headers', () => {
    const everything = [sink.messages[0].toString('utf8'), mail.html || '', mail.text || ''].join('\n');
    const urls = everything.match(/(https?:\/\/|mailto:)[^\s"'<>]+/g) ?? [];
    expect(urls.length).toBeGreaterThan(4);
    for (const url of urls) {
      const decoded = decodeURIComponent(url.replace(/=\r?\n/g, ''));
      expect(decoded).not.toMatch(/ana\.li|ana%2Eli|example\.com\b(?!\/)/i);
      const token = /\/(?:u|p|r|o|c|v)\/([\w-]+)\./.exec(decoded)?.[1];
      if (token) expect(Buffer.from(token, 'base64url').toString('utf8')).not.toContain('@');
    }
  });

  it('unsubscribes the contact when the List-Unsubscribe URL is POSTed with List-Unsubscribe=One-Click', async () => {
    const url = new URL(/<(https:[^>]+)>/.exec(String(header(mail, 'list-unsubscribe')))![1]);
    const page = await request(base, 'GET', url.pathname);
    expect(page.statusCode).toBe(200);
    expect((await contactDoc('c-ana'))!.consent.email.status).toBe('subscribed');

    const res = await request(base, 'POST', url.pathname, { headers: FORM, body: 'List-Unsubscribe=One-Click' });
    expect(res.statusCode).toBe(200);
    expect((await contactDoc('c-ana'))!.consent.email.status).toBe('unsubscribed');
    expect(events.at(-1)).toMatchObject({ contactId: 'c-ana', name: 'email.unsubscribed', data: { sendKey: input('s1').key, workflowId: 'journey/welcome/c-ana', stepId: 's1' } });
  });

  it('renders in the contact language with a fallback name, and the subject carries no advertising prefix unless configured', async () => {
    await acts.sendEmail(input('s1', 'welcome', 'c-bo'));
    const parsed = await simpleParser(sink.messages.at(-1)!);
    expect(parsed.subject).toBe('欢迎来到 Sojourn, 朋友');
    expect(parsed.text).toContain('退订');
  });

  it('sends a transactional email without List-Unsubscribe and without the marketing footer', async () => {
    const result = await acts.sendEmail(input('verify', 'verify_email', 'c-gone'));
    expect(result.status).toBe('sent');
    const parsed = await simpleParser(sink.messages.at(-1)!);
    expect(header(parsed, 'list-unsubscribe') !== undefined).toBe(false);
    expect(header(parsed, 'list-unsubscribe-post') !== undefined).toBe(false);
    expect(parsed.html).toMatch(/go\.sojourn\.test\/v\//);
    expect(parsed.html).not.toMatch(/\/u\//);
  });

  it('never emails twice for the same ledger key: a repeated activity call reports a duplicate', async () => {
    const before = sink.messages.length;
    const again = await acts.sendEmail(input('s1'));
    expect(again.status).toBe('duplicate');
    expect(sink.messages).toHaveLength(before);
  });

  it('throws a retryable error on SMTP 4xx and sends exactly once when the relay recovers', async () => {
    const before = sink.messages.length;
    sink.failNext(451);
    const failure = await acts.sendEmail(input('s4xx', 'welcome_tips', 'c-bo')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect((failure as ApplicationFailure).type).toBe('SmtpTransientError');
    expect(await Send.findOne({ key: input('s4xx', 'welcome_tips', 'c-bo').key }).lean()).toMatchObject({ status: 'pending', smtpStartedAt: null, smtpCode: 451 });

    const retried = await acts.sendEmail(input('s4xx', 'welcome_tips', 'c-bo'));
    expect(retried.status).toBe('sent');
    expect(sink.messages).toHaveLength(before + 1);
  });

  it('returns a permanent failure value with the SMTP code and reason on 5xx, recorded in the ledger', async () => {
    sink.failNext(550);
    const result = await acts.sendEmail(input('s5xx', 'welcome_tips', 'c-bo'));
    expect(result).toMatchObject({ status: 'failed', permanent: true, smtpCode: 550 });
    expect(await Send.findOne({ key: input('s5xx', 'welcome_tips', 'c-bo').key }).lean()).toMatchObject({ status: 'failed', smtpCode: 550 });
    expect(await acts.sendEmail(input('s5xx', 'welcome_tips', 'c-bo'))).toMatchObject({ status: 'failed', smtpCode: 550 });
  });

  it('does not send marketing email to a contact who unsubscribed, and records the skip', async () => {
    const before = sink.messages.length;
    const result = await acts.sendEmail(input('s1', 'welcome', 'c-gone'));
    expect(result).toEqual({ status: 'failed', permanent: true, reason: 'skipped: unsubscribed', smtpCode: null });
    expect(sink.messages).toHaveLength(before);
    expect(await Send.findOne({ key: input('s1', 'welcome', 'c-gone').key }).lean()).toMatchObject({ status: 'skipped' });
  });

  it('rejects a second ledger row with the same key (the unique index exists on this database)', async () => {
    const row = await Send.findOne({ key: input('s1').key }).lean();
    const { _id: _ignored, ...copy } = row!;
    await expect(Send.create(copy)).rejects.toMatchObject({ code: 11000 });
  });
});
