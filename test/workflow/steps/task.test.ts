/**
 * The task step with real parts: the data layer (tasks, owners, contacts), Delivery's send path into an
 * SMTP server in the test process, and, for `webhook:`, a real HTTP receiver. A task is created once per
 * run, step and iteration even when the activity is retried after it made the task; the owner's email
 * goes out once; a contact without an owner still gets an (unassigned) task and nobody is emailed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { dataLayerContactStore } from '../../../activities/contact-store';
import { createTaskStepActivities, type OwnerEmailNotifier } from '../../../activities/task-step';
import { createOwnerEmailNotifier } from '../../../activities/owner-email';
import { createWebhookStepActivities } from '../../../activities/webhook-step';
import { putOwner } from '../../../data/owners';
import { TaskModel, type TaskDoc } from '../../../data/tasks';
import { loadConfig } from '../../../lib/config';
import { createSmtpTransport } from '../../../mail/transport';
import { startSmtpSink, type SmtpSink } from '../../../testing/smtp-sink';
import type { JourneyResult } from '../../../workflows/definitions';
import { changeContact, contact, deploy, plan, sendsOf, useEngine } from '../helpers';

let sink: SmtpSink;
let failNextNotice = 0;
const received: { body: Record<string, unknown>; key: string }[] = [];
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, key: String(req.headers['idempotency-key']) });
    res.writeHead(204).end();
  });
});

/** The real owner email, made to fail once after sending when asked (a worker dying after SMTP, before the activity completes). */
const notifier: OwnerEmailNotifier = async (notice) => {
  const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), smtpUrl: sink.url };
  const result = await createOwnerEmailNotifier({ config, transport: createSmtpTransport(sink.url) })(notice);
  if (failNextNotice > 0) {
    failNextNotice--;
    throw new Error('worker lost after the owner email');
  }
  return result;
};

describe('the task step', () => {
  beforeAll(async () => {
    sink = await startSmtpSink();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await sink.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const engine = useEngine({
    tasks: createTaskStepActivities({ contacts: dataLayerContactStore(), notifyByEmail: (n) => notifier(n) }),
    webhooks: createWebhookStepActivities({ contacts: dataLayerContactStore(), config: { secret: 'task-step-webhook-secret-0123456789abc', development: true, allowedHosts: [], retryHours: 24 } }),
  });
  const tasksOf = async (contactId: string) => TaskModel.find({ contactId }).lean<TaskDoc[]>().exec();
  const mailsTo = async (address: string) => (await Promise.all(sink.messages.map((m) => simpleParser(m)))).filter((m) => !Array.isArray(m.to) && m.to?.value[0]?.address === address);

  it('creates one task and sends the owner one email, even when the activity is retried after both happened', async () => {
    const p = await deploy(plan('task-retry', [
      { id: 'call_customer', kind: 'task', title: 'Call the customer', why: 'Two stars for order A-1', dueMs: 2 * 86_400_000, email: true },
      { id: 'done', kind: 'update', addTags: ['asked'] },
    ]));
    await putOwner('wei', { name: 'Wei Zhang', email: 'wei.owner@example.com', crmId: 'crm-7' });
    const c = await contact({ firstName: 'Ana' });
    await changeContact(c, { owner: 'wei' });
    failNextNotice = 1;
    await (await engine.start(p, c)).result();

    const tasks = await tasksOf(c);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ ownerId: 'wei', title: 'Call the customer', why: 'Two stars for order A-1', status: 'open', stepId: 'call_customer', notified: { email: 'duplicate', webhook: null } });
    expect(tasks[0].due.getTime() - tasks[0].createdAt.getTime()).toBe(2 * 86_400_000);
    const mails = await mailsTo('wei.owner@example.com');
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toContain('Call the customer');
    expect(mails[0].text).toContain('Two stars for order A-1');
    expect(mails[0].text).toContain(tasks[0]._id);
    // The ledger row names the contact the task is about; the message went to the owner.
    expect((await sendsOf(c)).map((s) => [s.templateId, s.status])).toEqual([['owner_task', 'sent']]);
  });

  it('makes an unassigned task and emails nobody when the contact has no owner', async () => {
    const p = await deploy(plan('task-no-owner', [{ id: 'fix_phone', kind: 'task', title: 'Fix the phone number', why: '', dueMs: 86_400_000, email: true }]));
    const c = await contact();
    const before = sink.messages.length;
    const result = (await (await engine.start(p, c)).result()) as JourneyResult;
    expect(result.outcome).toBe('completed');
    expect(await tasksOf(c)).toMatchObject([{ ownerId: null, notified: { email: 'no_owner' } }]);
    expect(sink.messages.length).toBe(before);
  });

  it('tells the owner by webhook too: one signed POST with the task id, under its own idempotency key', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tasks`;
    const p = await deploy(plan('task-webhook', [{ id: 'call_back', kind: 'task', title: 'Call back', why: 'NPS 3', dueMs: 3_600_000, email: false, webhook: url }]));
    await putOwner('li', { name: 'Li Na', email: 'li.owner@example.com' });
    const c = await contact();
    await changeContact(c, { owner: 'li' });
    const result = (await (await engine.start(p, c)).result()) as JourneyResult;
    const [task] = await tasksOf(c);
    expect(received.filter((r) => r.body.taskId === task._id)).toEqual([
      { key: expect.any(String), body: expect.objectContaining({ type: 'task.created', taskId: task._id, title: 'Call back', why: 'NPS 3', contactId: c, ownerId: 'li' }) },
    ]);
    expect(result.lastCall).toMatchObject({ outcome: 'delivered', stepId: 'call_back' });
    expect(await mailsTo('li.owner@example.com')).toHaveLength(0);
  });
});
