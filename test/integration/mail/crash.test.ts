import { spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { createMessagingActivities } from '../../../activities/messaging';
import { ensureSendLedgerIndexes, Send } from '../../../data/send-ledger';
import { loadConfig } from '../../../lib/config';
import { messageIdFor } from '../../../mail/headers';
import { createSmtpTransport } from '../../../mail/transport';
import { useTestDatabase } from '../../helpers/db';
import { insertContact, loadRecipient } from './fixtures/contacts';
import { startSmtpSink, type SmtpSink } from './fixtures/smtp-sink';

const ROOT = path.resolve(__dirname, '../../..');

function input(stepId: string) {
  const workflowId = 'journey/welcome/c-crash';
  return { key: `${workflowId}:${stepId}:0`, workflowId, contactId: 'c-crash', journeyId: 'welcome', stepId, templateId: 'welcome' };
}

describe('a send activity that dies after the SMTP call and before completion', () => {
  const db = useTestDatabase('mail_crash');
  let sink: SmtpSink;
  const config = () => ({ ...loadConfig({ SOJOURN_ENV: 'development' }), smtpUrl: sink.url, mailDomain: 'sojourn.test' });

  beforeAll(async () => {
    await ensureSendLedgerIndexes();
    sink = await startSmtpSink();
    await insertContact({ _id: 'c-crash', email: 'crash@example.com', firstName: 'Cai' });
  });
  afterAll(() => sink.close());

  it('is killed with SIGKILL right after SMTP accepted the message; the retried activity does not resend, so the server holds exactly one message', async () => {
    const send = input('kill9');
    // One process (node with the tsx loader), so SIGKILL hits the process that made the SMTP call.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures/send-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, MONGODB_URI: db.uri, SMTP_URL: sink.url, SEND_INPUT: JSON.stringify(send), LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        if (c.toString().includes('SMTP_ACCEPTED')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`child exited before the SMTP call: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');
    expect(sink.messages).toHaveLength(1);
    expect(await Send.findOne({ key: send.key }).lean()).toMatchObject({ status: 'pending', smtpStartedAt: expect.any(Date) });

    // Temporal retries the activity (attempt 2) in a healthy worker.
    const acts = createMessagingActivities({ config: config(), transport: createSmtpTransport(sink.url), loadRecipient, logger: pino({ level: 'silent' }) });
    const retried = await acts.sendEmail(send);
    expect(retried.status).toBe('unknown');
    expect(sink.messages).toHaveLength(1);
    const row = await Send.findOne({ key: send.key }).lean();
    expect(row).toMatchObject({ status: 'unknown', note: expect.stringMatching(/not resent/) });
  }, 30_000);

  it('fails in-process between the SMTP call and completion, retries, and the server still holds exactly one message for that send', async () => {
    const before = sink.messages.length;
    let crash = true;
    const acts = createMessagingActivities({
      config: config(), transport: createSmtpTransport(sink.url), loadRecipient, logger: pino({ level: 'silent' }),
      afterSmtp: () => {
        if (crash) throw new Error('worker lost between SMTP and completion');
      },
    });
    await expect(acts.sendEmail(input('hook'))).rejects.toThrow('worker lost');
    crash = false;
    expect(await acts.sendEmail(input('hook'))).toMatchObject({ status: 'unknown' });
    expect(await acts.sendEmail(input('hook'))).toMatchObject({ status: 'unknown' });
    expect(sink.messages.length - before).toBe(1);
  });

  it('resends after a crash before the SMTP hand-off (a pending row that never reached SMTP is safe to send)', async () => {
    const send = input('early');
    await Send.create({ ...send, marketing: true, status: 'pending', messageId: messageIdFor(send.key, 'sojourn.test'), createdAt: new Date(), attempt: 1 });
    const before = sink.messages.length;
    const acts = createMessagingActivities({ config: config(), transport: createSmtpTransport(sink.url), loadRecipient, logger: pino({ level: 'silent' }) });
    expect(await acts.sendEmail(send)).toMatchObject({ status: 'sent' });
    expect(sink.messages.length - before).toBe(1);
  });
});
