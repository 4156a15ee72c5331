/**
 * The send path reads and writes by key only: every command the gate, the send activity and the ledger
 * send to the database during a real send is an insert or has a filter that is exactly `{ _id }`
 * (watched with the driver's command monitoring). Claims and frequency slots are inserts under unique keys, race-free, and
 * databases written in the earlier layout (ObjectId ledger rows, suppressions by a unique `key`) are
 * migrated at start-up and keep working. Each of those key lookups is answered from an index on the local
 * database, as its own `explain` shows (FerretDB reads `{_id}` from its `_id` index only with the
 * provisioning's patches, scripts/provision.ts FERRETDB_PATCHES).
 */
import path from 'node:path';
import mongoose from 'mongoose';
import type { CommandStartedEvent } from 'mongodb';
import { dataLayerContactStore } from '../../../activities/contact-store';
import { createGateActivities } from '../../../activities/gate';
import { createMessagingActivities, dataLayerRecipientLoader } from '../../../activities/messaging';
import { initDatabase, migrateKeyedLayouts } from '../../../data/db';
import { applyContactUpdate, createContacts, isSuppressed, upsertContact } from '../../../data/contacts';
import { Send, claimLedgerRow, findLedgerRow, findSendByMessageId, insertLedgerRow } from '../../../data/send-ledger';
import { SendSlot, SendWindow, takeWindowSlot } from '../../../data/send-window';
import { SuppressionModel } from '../../../data/suppression-model';
import { loadConfig } from '../../../lib/config';
import { createSmtpTransport } from '../../../mail/transport';
import { startSmtpSink, type SmtpSink } from '../../../testing/smtp-sink';
import { INDEX_SEARCH, uniqueDatabaseUri } from '../../helpers/db';
import { contactRuleSets } from '../../../data/classify';
import { loadProject } from '../../../engine/project';

const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), mailDomain: 'sojourn.test' };
const DAY = 86400_000;
let seq = 0;
const newContact = async () => String((await upsertContact({ email: `hot${Date.now().toString(36)}${seq++}@example.com`, timezone: 'UTC', consent: { email: 'subscribed' } })).contact._id);

/** A filter is a key lookup when it is exactly `{ _id: <value> }`, the value not an operator document. */
function isKeyFilter(filter: unknown): boolean {
  if (!filter || typeof filter !== 'object') return false;
  const keys = Object.keys(filter);
  const id = (filter as { _id?: unknown })._id;
  return keys.length === 1 && keys[0] === '_id' && (typeof id === 'string' || id instanceof mongoose.mongo.ObjectId);
}

/** The filter a command reads by (an update or delete first reads the documents its filter selects). */
function readFilter(e: CommandStartedEvent): Record<string, unknown> | null {
  const c = e.command as Record<string, unknown>;
  switch (e.commandName) {
    case 'find': return c.filter as Record<string, unknown>;
    case 'findAndModify': return c.query as Record<string, unknown>;
    case 'update': return (c.updates as { q: Record<string, unknown> }[])[0].q;
    case 'delete': return (c.deletes as { q: Record<string, unknown> }[])[0].q;
    default: return null;
  }
}

/** Why a command is not a key operation, or null when it is one. */
function notByKey(e: CommandStartedEvent): string | null {
  const c = e.command as Record<string, unknown>;
  switch (e.commandName) {
    case 'insert': return null;
    case 'find': return isKeyFilter(c.filter) ? null : `find ${JSON.stringify(c.filter)}`;
    case 'findAndModify': return isKeyFilter(c.query) ? null : `findAndModify ${JSON.stringify(c.query)}`;
    case 'update': return (c.updates as { q: unknown }[]).every((u) => isKeyFilter(u.q)) ? null : `update ${JSON.stringify(c.updates)}`;
    case 'delete': return (c.deletes as { q: unknown }[]).every((d) => isKeyFilter(d.q)) ? null : `delete ${JSON.stringify(c.deletes)}`;
    default: return `${e.commandName} is not a key operation`;
  }
}

describe('the send path by key', () => {
  let sink: SmtpSink;
  const seen: CommandStartedEvent[] = [];
  let recording = false;

  beforeAll(async () => {
    await mongoose.connect(uniqueDatabaseUri('hot_paths'), { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
    mongoose.connection.getClient().on('commandStarted', (e: CommandStartedEvent) => {
      if (recording) seen.push(e);
    });
    await initDatabase();
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.close();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  });

  it('decides, claims, sends and completes an email with inserts and `_id` lookups only', async () => {
    const contactId = await newContact();
    const gate = createGateActivities({ contacts: dataLayerContactStore() });
    const { sendEmail } = createMessagingActivities({ config, transport: createSmtpTransport(sink.url), loadRecipient: dataLayerRecipientLoader() });
    const workflowId = `journey/welcome/${contactId}`;
    const key = `${workflowId}:hello:0`;
    const settings = { defaultTimezone: 'UTC', frequency: { max: 2, perMs: 7 * DAY } };
    recording = true;
    const decision = await gate.gateSend({ contactId, journeyId: 'welcome', stepId: 'hello', templateId: 'welcome', marketing: true, topic: 'news', key, settings });
    const first = await sendEmail({ key, workflowId, contactId, journeyId: 'welcome', stepId: 'hello', templateId: 'welcome' });
    const again = await sendEmail({ key, workflowId, contactId, journeyId: 'welcome', stepId: 'hello', templateId: 'welcome' });
    const row = await findSendByMessageId(first.status === 'sent' ? first.messageId : '');
    recording = false;
    expect(decision).toEqual({ outcome: 'send' });
    expect(first.status).toBe('sent');
    expect(again).toEqual({ status: 'duplicate', messageId: (first as { messageId: string }).messageId });
    expect(row).toMatchObject({ _id: key, key, status: 'sent', contactId });
    expect(sink.messages).toHaveLength(1);
    const kinds = new Set(seen.map((e) => e.commandName));
    expect(kinds).toEqual(new Set(['find', 'insert', 'update']));
    expect(seen.map(notByKey).filter(Boolean)).toEqual([]);

    // The database's own plan for each of those reads: an index search, never a scan.
    const reads = seen.map((e) => ({ collection: String((e.command as Record<string, unknown>)[e.commandName]), filter: readFilter(e) })).filter((r) => r.filter);
    expect(new Set(reads.map((r) => r.collection))).toEqual(new Set(['contacts', 'suppressions', 'send_windows', 'send_slots', 'sends', 'send_refs']));
    for (const r of reads) {
      const plan = await mongoose.connection.db!.command({ explain: { find: r.collection, filter: r.filter }, verbosity: 'queryPlanner' });
      expect({ ...r, plan: JSON.stringify(plan.queryPlanner) }).toEqual({ ...r, plan: expect.stringMatching(INDEX_SEARCH) });
    }
  }, 60_000);

  it('reclassifies a contact after an order (importance, lifecycle, RFM, business type) with one `_id` read and one `_id` write', async () => {
    const contactId = await newContact();
    const ruleSets = contactRuleSets(Object.values(loadProject([path.join(__dirname, '..', '..', '..', 'journeys', 'crm.rules.yaml')]).result.rules.ruleSets));
    expect(ruleSets.map((r) => r.name)).toEqual(expect.arrayContaining(['importance', 'lifecycle', 'rfm', 'business_type']));
    const contacts = createContacts({ secret: config.secret, phoneKey: config.phoneKey });
    await contacts.recordEvent({ contactId, name: 'order.completed', data: { orderId: 'o-1', amount: 1200 } });
    seen.length = 0;
    recording = true;
    const r = await contacts.classifyContact(contactId, ruleSets);
    recording = false;
    expect(r!.set).toMatchObject({ 'classification.importance': { value: 'vip', rule: 'importance#0' }, 'classification.rfm': { value: 'new_customers' }, rfmScore: { recency: 5, frequency: 1, monetary: 4 } });
    expect(seen.map((e) => e.commandName)).toEqual(['find', 'update']);
    expect(seen.map(notByKey).filter(Boolean)).toEqual([]);
  }, 60_000);

  it('lets exactly one of five concurrent attempts claim a pending row', async () => {
    const key = `journey/x/c:claim:${seq++}`;
    await insertLedgerRow({ key, workflowId: 'journey/x/c', contactId: 'c', journeyId: 'x', stepId: 'claim', templateId: 'welcome', templateVersion: null, marketing: true, status: 'pending', messageId: `<${key}@t>`, createdAt: new Date(), smtpStartedAt: null, sentAt: null, attempt: 1, smtpCode: null, error: null, note: null });
    expect(await insertLedgerRow({ key, workflowId: 'journey/x/c', contactId: 'c', journeyId: 'x', stepId: 'claim', templateId: 'welcome', templateVersion: null, marketing: true, status: 'pending', messageId: `<${key}@t>`, createdAt: new Date(), smtpStartedAt: null, sentAt: null, attempt: 1, smtpCode: null, error: null, note: null })).toBe(false);
    const claims = await Promise.all([1, 2, 3, 4, 5].map((attempt) => claimLedgerRow(key, new Date(), attempt)));
    expect(claims.filter((c) => c.won)).toHaveLength(1);
  });

  it('gives exactly two of six concurrent sends a slot under a cap of two, and a retried key the same answer', async () => {
    const contactId = `window-${seq++}`;
    const now = new Date();
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => takeWindowSlot(contactId, `k${i}`, now, 2, 7 * DAY)));
    expect(results.filter(Boolean)).toHaveLength(2);
    const winners = results.map((ok, i) => (ok ? `k${i}` : null)).filter(Boolean) as string[];
    for (const [i, ok] of results.entries()) expect(await takeWindowSlot(contactId, `k${i}`, now, 2, 7 * DAY)).toBe(ok);
    expect(await takeWindowSlot(contactId, 'k-later', new Date(now.getTime() + 7 * DAY + 1000), 2, 7 * DAY)).toBe(true);
    expect(winners).toHaveLength(2);
  });

  it('lifts an unsubscribe on a confirmed re-opt-in but never a bounce', async () => {
    const contactId = await newContact();
    await applyContactUpdate(contactId, { consent: { channel: 'email', status: 'unsubscribed' } });
    expect(await isSuppressed(contactId)).toBe(true);
    expect(await isSuppressed(contactId, { marketing: false })).toBe(false);
    await applyContactUpdate(contactId, { consent: { channel: 'email', status: 'subscribed' } }, { reconsent: true });
    expect(await isSuppressed(contactId)).toBe(false);
    await applyContactUpdate(contactId, { emailStatus: 'bounced' });
    await applyContactUpdate(contactId, { consent: { channel: 'email', status: 'subscribed' } }, { reconsent: true });
    const contacts = createContacts({ secret: config.secret, phoneKey: config.phoneKey });
    const doc = await contacts.getContact(contactId);
    expect(await SuppressionModel.collection.findOne({ _id: contacts.suppressionKey(doc!.emailKey!) } as never)).toMatchObject({ reason: 'hard_bounce' });
  });

  it('migrates a database of the earlier layout at start-up: ledger rows, suppressions and frequency windows keep working', async () => {
    const contacts = createContacts({ secret: config.secret, phoneKey: config.phoneKey });
    const contactId = await newContact();
    const doc = await contacts.getContact(contactId);
    const hash = contacts.suppressionKey(doc!.emailKey!);
    // The earlier layout: ObjectId ids, uniqueness on `key`.
    await mongoose.connection.collection('migrations').deleteMany({});
    await Send.collection.dropIndexes().catch(() => undefined);
    await Send.collection.createIndex({ key: 1 }, { unique: true });
    await SuppressionModel.collection.dropIndexes().catch(() => undefined);
    await SuppressionModel.collection.createIndex({ key: 1 }, { unique: true, name: 'key_1' });
    const old = (i: number) => ({ key: `journey/old/${contactId}:s${i}:0`, workflowId: `journey/old/${contactId}`, contactId, journeyId: 'old', stepId: `s${i}`, templateId: 'welcome', marketing: true, status: 'sent', messageId: `<old${i}-${contactId}@sojourn.test>`, createdAt: new Date(Date.now() - i * 3600_000), sentAt: new Date(), attempt: 1 });
    await Send.collection.insertMany([old(1), old(2)] as never[]);
    await SuppressionModel.collection.insertOne({ key: hash, reason: 'hard_bounce', createdAt: new Date() } as never);

    const first = await migrateKeyedLayouts();
    expect(first).toMatchObject({ sends: 2, suppressions: 1 });
    await initDatabase(); // declared indexes after the migration; and a second start-up moves nothing
    expect(await migrateKeyedLayouts()).toEqual({ sends: 0, suppressions: 0, windows: 0, contactKeys: 0 });
    expect(await findLedgerRow(old(1).key)).toMatchObject({ _id: old(1).key, status: 'sent' });
    expect(await findSendByMessageId(old(2).messageId)).toMatchObject({ _id: old(2).key });
    expect(await Send.collection.countDocuments({ _id: { $type: 'objectId' } } as never)).toBe(0);
    expect(await isSuppressed(contactId, { marketing: false })).toBe(true);
    // Two marketing sends in the last day were already made: a cap of two skips the third.
    expect(await SendWindow.collection.findOne({ _id: contactId } as never)).toMatchObject({ n: 2 });
    expect(await SendSlot.collection.findOne({ _id: `k:${old(2).key}` } as never)).toMatchObject({ n: expect.any(Number) });
    expect(await takeWindowSlot(contactId, `journey/new/${contactId}:s:0`, new Date(), 2, 7 * DAY)).toBe(false);
  });
});
