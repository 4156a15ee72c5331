/**
 * SSRF guard of the journey webhook step: outside development mode no private, loopback, link-local or
 * otherwise non-public address is called, whether written in the URL or reached through a name that
 * resolves there; https only; SOJOURN_WEBHOOK_ALLOWED_HOSTS narrows further.
 */
import dns from 'node:dns';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { createWebhookStepActivities, hostAllowed, type WebhookCallInput } from '../../../activities/webhook-step';
import { isNonPublicAddress, outboundUrlProblem } from '../../../rules/outbound-url';
import type { StepWebhookConfig } from '../../../lib/config';
import type { ContactView } from '../../../rules/contact-schema';

const production: StepWebhookConfig = { secret: 'x'.repeat(32), development: false, allowedHosts: [], retryHours: 24 };
const view = { id: 'c1', firstName: 'Ana', attributes: {}, engagement: {} } as unknown as ContactView;
const contacts = { getContactView: async () => view, applyContactUpdate: async () => undefined };
const call = (url: string): WebhookCallInput => ({
  key: 'journey/x/c1:hook:0', contactId: 'c1', journeyId: 'x', stepId: 'hook', url, body: { id: { source: 'contact.id' } },
  now: new Date().toISOString(), journey: { id: 'x', version: 1, startedAt: new Date().toISOString(), params: {} }, defaultTimezone: 'UTC',
});

describe('outbound addresses', () => {
  it.each([
    ['127.0.0.1', true], ['10.20.30.40', true], ['172.16.0.1', true], ['172.32.0.1', false], ['192.168.1.1', true],
    ['169.254.169.254', true], ['100.64.1.1', true], ['0.0.0.0', true], ['224.0.0.1', true], ['8.8.8.8', false], ['93.184.216.34', false],
    ['::1', true], ['::', true], ['fe80::1', true], ['fd12:3456::1', true], ['::ffff:127.0.0.1', true], ['::ffff:10.0.0.1', true],
    ['::ffff:8.8.8.8', false], ['64:ff9b::192.168.0.1', true], ['2606:4700:4700::1111', false], ['[::1]', true],
  ])('%s is non-public: %s', (ip, expected) => {
    expect(isNonPublicAddress(ip)).toBe(expected);
  });

  it('names are not IP literals', () => {
    expect(isNonPublicAddress('crm.example.com')).toBeNull();
    expect(isNonPublicAddress('1.2.3')).toBeNull();
    expect(isNonPublicAddress('1::2::3')).toBeNull();
  });

  it('refuses local names and private literals outside development, and honours the allow-list', () => {
    for (const h of ['localhost', 'api.localhost', 'db.internal', 'printer.local', '127.0.0.1', '[::1]', '169.254.169.254']) expect(hostAllowed(h, production)).toBe(false);
    expect(hostAllowed('crm.example.com', production)).toBe(true);
    expect(hostAllowed('127.0.0.1', { ...production, development: true })).toBe(true);
    const listed = { ...production, allowedHosts: ['crm.example.com', '.hooks.example.net'] };
    expect(hostAllowed('crm.example.com', listed)).toBe(true);
    expect(hostAllowed('eu.hooks.example.net', listed)).toBe(true);
    expect(hostAllowed('evil.example.org', listed)).toBe(false);
  });

  it('checks the URL shape', () => {
    expect(outboundUrlProblem('https://crm.example.com/x')).toBeNull();
    expect(outboundUrlProblem('file:///etc/passwd')?.code).toBe('scheme');
    expect(outboundUrlProblem('https://a:b@crm.example.com/')?.code).toBe('credentials');
    expect(outboundUrlProblem('not a url')?.code).toBe('not_a_url');
  });
});

describe('the webhook call outside development mode', () => {
  let server: http.Server;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => { hits++; res.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => { await new Promise((r) => server.close(r)); });
  const port = () => (server.address() as AddressInfo).port;

  it('refuses loopback written in the URL, plain http and hosts off the allow-list, without a request', async () => {
    const hooks = createWebhookStepActivities({ contacts, config: production });
    for (const url of [`https://127.0.0.1:${port()}/`, `https://[::1]:${port()}/`, `https://localhost:${port()}/`, 'http://crm.example.com/hooks']) {
      expect(await hooks.callWebhook(call(url))).toMatchObject({ outcome: 'failed', reason: 'url_refused' });
    }
    const listed = createWebhookStepActivities({ contacts, config: { ...production, allowedHosts: ['crm.example.com'] } });
    expect(await listed.callWebhook(call('https://other.example.com/'))).toMatchObject({ outcome: 'failed', reason: 'url_refused' });
    expect(hits).toBe(0);
  });

  it('refuses a name that resolves to a non-public address (the address connected to is checked)', async () => {
    const name = os.hostname();
    const resolved = await dns.promises.lookup(name).catch(() => null);
    // On this machine the host name resolves through /etc/hosts to loopback; elsewhere the case does not apply.
    if (!resolved || isNonPublicAddress(resolved.address) !== true) return;
    const hooks = createWebhookStepActivities({ contacts, config: production });
    expect(await hooks.callWebhook(call(`https://${name}:${port()}/`))).toMatchObject({ outcome: 'failed', reason: 'address_refused' });
    expect(hits).toBe(0);
  });

  it('never calls unsigned: without a signing secret the call fails', async () => {
    const hooks = createWebhookStepActivities({ contacts, config: { ...production, secret: null } });
    expect(await hooks.callWebhook(call('https://crm.example.com/'))).toMatchObject({ outcome: 'failed', reason: 'no_signing_secret' });
  });
});
