import '../../helpers/quiet-temporal';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createMessagingActivities } from '../../../activities/messaging';
import { ensureSendLedgerIndexes, Send } from '../../../data/send-ledger';
import { loadConfig } from '../../../lib/config';
import { createSmtpTransport } from '../../../mail/transport';
import { useTestDatabase } from '../../helpers/db';
import { createTimeSkippingEnv, testDataConverter } from '../../helpers/temporal';
import { insertContact, loadRecipient } from './fixtures/contacts';
import { startSmtpSink, type SmtpSink } from './fixtures/smtp-sink';

describe('sendEmail under Temporal retries', () => {
  useTestDatabase('mail_temporal');
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;

  beforeAll(async () => {
    await ensureSendLedgerIndexes();
    sink = await startSmtpSink();
    env = await createTimeSkippingEnv();
    await insertContact({ _id: 'c-t', email: 'temporal@example.com', firstName: 'Tao' });
  }, 60_000);
  afterAll(async () => {
    await env?.teardown();
    await sink?.close();
  });

  it('sends exactly one message when attempt 1 dies after the SMTP call and Temporal retries the activity', async () => {
    const attempts: number[] = [];
    const acts = createMessagingActivities({
      config: { ...loadConfig({ SOJOURN_ENV: 'development' }), smtpUrl: sink.url, mailDomain: 'sojourn.test' },
      transport: createSmtpTransport(sink.url),
      loadRecipient,
      logger: pino({ level: 'silent' }),
      afterSmtp: () => {
        const attempt = Context.current().info.attempt;
        attempts.push(attempt);
        if (attempt === 1) throw new Error('worker lost between SMTP and completion');
      },
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'mail-retry',
      workflowsPath: path.join(__dirname, 'fixtures/send-workflow.ts'),
      activities: acts,
      dataConverter: testDataConverter(),
    });
    const input = { key: 'journey/welcome/c-t:s1:0', workflowId: 'journey/welcome/c-t', contactId: 'c-t', journeyId: 'welcome', stepId: 's1', templateId: 'welcome' };
    const result = await worker.runUntil(env.client.workflow.execute('sendOnceWorkflow', { taskQueue: 'mail-retry', workflowId: 'mail-retry-1', args: [input] }));

    expect(attempts).toEqual([1]);
    expect(result).toMatchObject({ status: 'unknown' });
    expect(sink.messages).toHaveLength(1);
    expect(await Send.findOne({ key: input.key }).lean()).toMatchObject({ status: 'unknown', attempt: 2 });
  }, 90_000);
});
