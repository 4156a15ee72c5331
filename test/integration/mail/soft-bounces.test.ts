import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createMessagingActivities } from '../../../activities/messaging';
import { ensureSendLedgerIndexes, Send } from '../../../data/send-ledger';
import { loadConfig } from '../../../lib/config';
import { ingestReport, recordSmtpBounce, softBouncePolicy } from '../../../mail/bounces';
import { collectionContactsPort } from '../../../mail/contacts-port';
import type { EmailEvent } from '../../../mail/events';
import { createSmtpTransport } from '../../../mail/transport';
import { useTestDatabase } from '../../helpers/db';
import { contactDoc, insertContact, loadRecipient } from './fixtures/contacts';
import { startSmtpSink, type SmtpSink } from './fixtures/smtp-sink';

const DAY = 86_400_000;
const soft = fs.readFileSync(path.join(__dirname, 'fixtures', 'dsn-soft.eml'), 'utf8');
const T0 = Date.parse('2026-11-01T10:00:00Z');

/** The soft DSN fixture, about the message with this Message-ID. */
const softReport = (hex: string, n: number) => soft.replace('fedcba9876543210fedcba9876543210', hex).replace('<dsn-2@', `<dsn-${hex.slice(0, 6)}-${n}@`);

/** A ledger row for the n-th email to a contact; returns its Message-ID hex. */
async function sent(contactId: string, n: number): Promise<string> {
  const hex = `${contactId.replace(/\W/g, '')}${n}`.padEnd(32, '0').slice(0, 32);
  await Send.create({
    key: `journey/welcome/${contactId}:s${n}:0`, workflowId: `journey/welcome/${contactId}`, contactId, journeyId: 'welcome', stepId: `s${n}`,
    templateId: 'welcome', marketing: true, status: 'sent', messageId: `<${hex}@sojourn.test>`, createdAt: new Date(T0), sentAt: new Date(T0),
  });
  return hex;
}

describe('soft bounces escalate', () => {
  useTestDatabase('mail_soft_bounces');
  const events: EmailEvent[] = [];
  const deps = (day: number, policy = { softBounceLimit: 3, softBounceWindowDays: 14 }) => ({
    contacts: collectionContactsPort(), onEvent: async (e: EmailEvent) => void events.push(e), mailDomain: 'sojourn.test',
    now: () => new Date(T0 + day * DAY), softBounces: softBouncePolicy(policy),
  });
  let sink: SmtpSink;

  beforeAll(async () => {
    await ensureSendLedgerIndexes();
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());

  it('marks the address bounced (and suppresses it) at the third soft bounce within 14 days, not before', async () => {
    await insertContact({ _id: 'c-three', email: 'full1@example.net' });
    const ids = [await sent('c-three', 1), await sent('c-three', 2), await sent('c-three', 3)];
    expect(await ingestReport(softReport(ids[0], 1), deps(0))).toMatchObject({ effect: 'soft' });
    expect(await ingestReport(softReport(ids[1], 2), deps(6))).toMatchObject({ effect: 'soft' });
    expect(await contactDoc('c-three')).toMatchObject({ emailStatus: 'verified' });
    expect(await ingestReport(softReport(ids[2], 3), deps(12))).toMatchObject({ effect: 'bounced' });
    expect(await contactDoc('c-three')).toMatchObject({ emailStatus: 'bounced', suppressed: true, suppressedReason: 'hard_bounce' });
  });

  it('does not escalate three soft bounces spread over more than 14 days, nor the same report ingested twice', async () => {
    await insertContact({ _id: 'c-spread', email: 'full2@example.net' });
    const ids = [await sent('c-spread', 1), await sent('c-spread', 2), await sent('c-spread', 3)];
    await ingestReport(softReport(ids[0], 1), deps(0));
    await ingestReport(softReport(ids[1], 2), deps(10));
    await ingestReport(softReport(ids[1], 2), deps(11)); // the same bounce again
    expect(await ingestReport(softReport(ids[2], 3), deps(20))).toMatchObject({ effect: 'soft' });
    expect(await contactDoc('c-spread')).toMatchObject({ emailStatus: 'verified' });
  });

  it('follows the configured limit (SOFT_BOUNCE_LIMIT=2)', async () => {
    await insertContact({ _id: 'c-two', email: 'full3@example.net' });
    const ids = [await sent('c-two', 1), await sent('c-two', 2)];
    const two = { softBounceLimit: 2, softBounceWindowDays: 14 };
    expect(await ingestReport(softReport(ids[0], 1), deps(0, two))).toMatchObject({ effect: 'soft' });
    expect(await ingestReport(softReport(ids[1], 2), deps(1, two))).toMatchObject({ effect: 'bounced' });
    expect(loadConfig({ SOJOURN_ENV: 'development', SOFT_BOUNCE_LIMIT: '2', SOFT_BOUNCE_DAYS: '30' } as NodeJS.ProcessEnv)).toMatchObject({ softBounceLimit: 2, softBounceWindowDays: 30 });
  });

  it('counts a send given up after the SMTP retry window as a soft bounce, and a 5xx as a hard one with the reply', async () => {
    await insertContact({ _id: 'c-smtp', email: 'temp@example.net' });
    const bounces: string[] = [];
    const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), smtpUrl: sink.url, mailDomain: 'sojourn.test' };
    const acts = (retryWindowMs: number) => createMessagingActivities({
      config, transport: createSmtpTransport(sink.url), loadRecipient, logger: pino({ level: 'silent' }), retryWindowMs,
      onBounce: async (row, b) => void bounces.push(`${b.type}:${b.code}:${await recordSmtpBounce(row, b, deps(0))}`),
    });
    const input = (step: string) => ({ key: `journey/welcome/c-smtp:${step}:0`, workflowId: 'journey/welcome/c-smtp', contactId: 'c-smtp', journeyId: 'welcome', stepId: step, templateId: 'welcome' });

    sink.failNext(451);
    await expect(acts(DAY).sendEmail(input('temp'))).rejects.toThrow(/SMTP transient failure/); // inside the window: retried
    sink.failNext(451);
    const given = await acts(0).sendEmail(input('temp')); // the window is over
    expect(given).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^gave up after \d+ attempts/) });
    expect(await Send.findOne({ key: input('temp').key }).lean()).toMatchObject({ status: 'failed', bounceType: 'soft', smtpCode: 451 });

    sink.failNext(550);
    expect(await acts(DAY).sendEmail(input('perm'))).toMatchObject({ status: 'failed', smtpCode: 550 });
    expect(await Send.findOne({ key: input('perm').key }).lean()).toMatchObject({ status: 'failed', bounceType: 'hard', bounceCode: '550' });
    expect(bounces).toEqual(['soft:451:soft', 'hard:550:bounced']);
    expect(await contactDoc('c-smtp')).toMatchObject({ emailStatus: 'bounced' });
    expect(events.at(-1)).toMatchObject({ name: 'email.bounced', contactId: 'c-smtp', data: { type: 'hard', reason: expect.stringMatching(/Mailbox unavailable/), source: 'smtp' } });
  });
});
