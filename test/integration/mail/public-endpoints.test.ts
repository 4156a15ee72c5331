import Fastify, { type FastifyInstance } from 'fastify';
import { Send } from '../../../data/send-ledger';
import { loadConfig } from '../../../lib/config';
import type { EmailEvent } from '../../../mail/events';
import { messageIdFor } from '../../../mail/headers';
import { LinkBuilder } from '../../../mail/links';
import { TokenSigner } from '../../../mail/tokens';
import { collectionContactsPort } from '../../../mail/contacts-port';
import { publicPlugin } from '../../../server/public';
import { useTestDatabase } from '../../helpers/db';
import { contactDoc, insertContact } from './fixtures/contacts';
import { FORM, listen, request } from './fixtures/http';

const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), publicBaseUrl: 'https://go.sojourn.test', mailDomain: 'sojourn.test', secret: 'endpoint-secret', apiKey: 'k-test' };
const links = new LinkBuilder(new TokenSigner(config.secret), config.publicBaseUrl, config.mailDomain);
const path = (url: string) => new URL(url).pathname;
const SEND_KEY = 'journey/welcome/c-1:s1:0';

describe('the public endpoints behind email links', () => {
  useTestDatabase('mail_public');
  let app: FastifyInstance;
  let base: string;
  const events: EmailEvent[] = [];
  const ref = { contactId: 'c-1' };

  beforeAll(async () => {
    app = Fastify();
    await app.register(publicPlugin, { config, contacts: collectionContactsPort(), onEvent: async (e) => void events.push(e) });
    base = await listen(app);
    await insertContact({ _id: 'c-1', email: 'one@example.com', firstName: 'Yi', consent: { email: { status: 'pending' } }, emailStatus: 'unverified' });
  });
  afterAll(() => app.close());

  describe('unsubscribe', () => {
    it('shows a confirmation page on GET and changes nothing', async () => {
      await insertContact({ _id: 'c-get', email: 'get@example.com' });
      const res = await request(base, 'GET', path(links.unsubscribeUrl({ contactId: 'c-get' })));
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('method="post"');
      expect(res.body).toContain('name="List-Unsubscribe" value="One-Click"');
      expect((await contactDoc('c-get'))!.consent.email.status).toBe('subscribed');
      expect(events.filter((e) => e.contactId === 'c-get')).toHaveLength(0);
    });

    it('accepts the RFC 8058 one-click POST as multipart/form-data too', async () => {
      await insertContact({ _id: 'c-mp', email: 'mp@example.com' });
      const body = '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n';
      const res = await request(base, 'POST', path(links.unsubscribeUrl({ contactId: 'c-mp' })), { headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, body });
      expect(res.statusCode).toBe(200);
      expect((await contactDoc('c-mp'))!.consent.email.status).toBe('unsubscribed');
    });

    it('rejects a POST without List-Unsubscribe=One-Click', async () => {
      await insertContact({ _id: 'c-nobody', email: 'nb@example.com' });
      const res = await request(base, 'POST', path(links.unsubscribeUrl({ contactId: 'c-nobody' })), { headers: FORM, body: 'x=1' });
      expect(res.statusCode).toBe(400);
      expect((await contactDoc('c-nobody'))!.consent.email.status).toBe('subscribed');
    });

    it('rejects a forged token (payload changed to another contact) and changes nothing', async () => {
      await insertContact({ _id: 'c-victim', email: 'victim@example.com' });
      const [payload, sig] = path(links.unsubscribeUrl({ contactId: 'c-1' })).slice(3).split('.');
      const forgedPayload = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('"c-1"', '"c-victim"')).toString('base64url');
      const res = await request(base, 'POST', `/u/${forgedPayload}.${sig}`, { headers: FORM, body: 'List-Unsubscribe=One-Click' });
      expect(res.statusCode).toBe(400);
      const signedElsewhere = new LinkBuilder(new TokenSigner('another-secret'), config.publicBaseUrl, config.mailDomain).unsubscribeUrl({ contactId: 'c-victim' });
      expect((await request(base, 'POST', path(signedElsewhere), { headers: FORM, body: 'List-Unsubscribe=One-Click' })).statusCode).toBe(400);
      expect((await request(base, 'POST', '/u/garbage', { headers: FORM, body: 'List-Unsubscribe=One-Click' })).statusCode).toBe(400);
      expect((await contactDoc('c-victim'))!.consent.email.status).toBe('subscribed');
    });

    it('rejects an expired token with 410 and changes nothing', async () => {
      await insertContact({ _id: 'c-old', email: 'old@example.com' });
      const sixtyOneDaysAgo = new Date(Date.now() - 61 * 86400_000);
      const res = await request(base, 'POST', path(links.unsubscribeUrl({ contactId: 'c-old' }, sixtyOneDaysAgo)), { headers: FORM, body: 'List-Unsubscribe=One-Click' });
      expect(res.statusCode).toBe(410);
      expect((await contactDoc('c-old'))!.consent.email.status).toBe('subscribed');
    });

    it('still works 30 days after the send', async () => {
      await insertContact({ _id: 'c-30', email: 'thirty@example.com' });
      const res = await request(base, 'POST', path(links.unsubscribeUrl({ contactId: 'c-30' }, new Date(Date.now() - 30 * 86400_000))), { headers: FORM, body: 'List-Unsubscribe=One-Click' });
      expect(res.statusCode).toBe(200);
      expect((await contactDoc('c-30'))!.consent.email.status).toBe('unsubscribed');
    });

    it('refuses a token made for another purpose', async () => {
      const res = await request(base, 'POST', path(links.preferencesUrl(ref)).replace('/p/', '/u/'), { headers: FORM, body: 'List-Unsubscribe=One-Click' });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('double opt-in and address verification', () => {
    it('confirms only on POST from the page button, and rejects a replay of the same token', async () => {
      const url = path(links.confirmUrl(ref));
      const page = await request(base, 'GET', url);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(`action="${url}"`);
      expect((await contactDoc('c-1'))!.consent.email.status).toBe('pending');

      expect((await request(base, 'POST', url, { headers: FORM, body: '' })).statusCode).toBe(200);
      expect((await contactDoc('c-1'))!.consent.email.status).toBe('subscribed');
      expect(events.at(-1)).toMatchObject({ contactId: 'c-1', name: 'email.confirmed' });

      const replay = await request(base, 'POST', url, { headers: FORM, body: '' });
      expect(replay.statusCode).toBe(409);
      expect((await request(base, 'GET', url)).statusCode).toBe(409);
    });

    it('verifies the address on POST, rejects the replay, and rejects an expired verification token', async () => {
      const url = path(links.verifyUrl(ref));
      expect((await request(base, 'GET', url)).statusCode).toBe(200);
      expect((await contactDoc('c-1'))!.emailStatus).toBe('unverified');
      expect((await request(base, 'POST', url, { headers: FORM, body: '' })).statusCode).toBe(200);
      expect((await contactDoc('c-1'))!.emailStatus).toBe('verified');
      expect((await request(base, 'POST', url, { headers: FORM, body: '' })).statusCode).toBe(409);
      const stale = path(links.verifyUrl(ref, new Date(Date.now() - 8 * 86400_000)));
      expect((await request(base, 'POST', stale, { headers: FORM, body: '' })).statusCode).toBe(410);
    });
  });

  describe('preference centre', () => {
    it('shows topics on GET and saves topics and a pause on POST', async () => {
      await insertContact({ _id: 'c-pref', email: 'pref@example.com' });
      const url = path(links.preferencesUrl({ contactId: 'c-pref' }));
      const page = await request(base, 'GET', url);
      expect(page.body).toContain('value="offers" checked');
      const res = await request(base, 'POST', url, { headers: FORM, body: 'topics=news&pause=30' });
      expect(res.statusCode).toBe(200);
      const doc = await contactDoc('c-pref');
      expect(doc!.preferences.topics).toEqual({ news: true, offers: false });
      expect(doc!.preferences.pausedUntil.getTime()).toBeGreaterThan(Date.now() + 29 * 86400_000);
      expect(doc!.consent.email.status).toBe('subscribed');
    });
  });

  describe('click redirect', () => {
    beforeAll(async () => {
      await Send.create({ key: SEND_KEY, workflowId: 'journey/welcome/c-1', contactId: 'c-1', journeyId: 'welcome', stepId: 's1', templateId: 'welcome', marketing: true, status: 'sent', messageId: messageIdFor(SEND_KEY, config.mailDomain), createdAt: new Date(Date.now() - 3600_000), sentAt: new Date(Date.now() - 3600_000) });
    });

    it('redirects to the signed target and reports the click with the run and step that sent it', async () => {
      const url = links.trackedUrl('https://shop.example.com/new?x=1', { contactId: 'c-1', sendRef: messageIdFor(SEND_KEY, config.mailDomain).slice(1, 33) });
      const res = await request(base, 'GET', path(url), { headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605.1.15' } });
      expect(res.statusCode).toBe(302);
      expect(res.headers.get('location')).toBe('https://shop.example.com/new?x=1');
      expect(events.at(-1)).toMatchObject({ name: 'email.clicked', contactId: 'c-1', data: { url: 'https://shop.example.com/new?x=1', machine: false, sendKey: SEND_KEY, workflowId: 'journey/welcome/c-1', stepId: 's1' } });
      expect((await contactDoc('c-1'))!.engagement.clicks).toBe(1);
    });

    it('refuses an unsigned URL, a tampered target and a URL in the query string', async () => {
      const url = path(links.trackedUrl('https://shop.example.com/new', ref));
      const [payload, sig] = url.slice(3).split('.');
      const tampered = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('shop.example.com', 'evil.example.net')).toString('base64url');
      for (const p of [`/r/${tampered}.${sig}`, '/r/https%3A%2F%2Fevil.example.net', `/r/?url=https://evil.example.net`, path(links.unsubscribeUrl(ref)).replace('/u/', '/r/')]) {
        const res = await request(base, 'GET', p);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.headers.get('location')).toBeNull();
      }
    });

    it('flags HEAD requests, scanner user agents and clicks within 2 seconds of the send as machine clicks', async () => {
      const fresh = links.trackedUrl('https://shop.example.com/a', ref);
      await request(base, 'GET', path(fresh), { headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Chrome/120' } });
      expect(events.at(-1)!.data).toMatchObject({ machine: true, reasons: ['clicked_within_seconds_of_send'] });
      const old = links.trackedUrl('https://shop.example.com/a', ref, new Date(Date.now() - 60_000));
      await request(base, 'HEAD', path(old), { headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Chrome/120' } });
      expect(events.at(-1)!.data).toMatchObject({ machine: true, reasons: ['head_request'] });
      await request(base, 'GET', path(old), { headers: { 'user-agent': 'Barracuda Sentinel (EE)' } });
      expect(events.at(-1)!.data).toMatchObject({ machine: true, reasons: ['scanner_user_agent'] });
    });
  });

  describe('open pixel', () => {
    it('answers a GIF that must not be cached, counts a human open, and flags Apple Mail Privacy Protection', async () => {
      const opensBefore = (await contactDoc('c-1'))!.engagement.opens;
      const url = path(links.openPixelUrl(ref, new Date(Date.now() - 3600_000)));
      const res = await request(base, 'GET', url, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(res.raw.subarray(0, 6).toString()).toBe('GIF89a');
      expect(events.at(-1)).toMatchObject({ name: 'email.opened', data: { machine: false } });
      expect((await contactDoc('c-1'))!.engagement.opens).toBe(opensBefore + 1);

      await request(base, 'GET', url, { headers: { 'user-agent': 'Mozilla/5.0' } });
      expect(events.at(-1)).toMatchObject({ name: 'email.opened', data: { machine: true, reasons: ['apple_mpp_user_agent'] } });
      expect((await contactDoc('c-1'))!.engagement.opens).toBe(opensBefore + 1);
    });

    it('answers the GIF for a bad token but records nothing', async () => {
      const count = events.length;
      const res = await request(base, 'GET', '/o/not-a-token.gif');
      expect(res.statusCode).toBe(200);
      expect(events).toHaveLength(count);
    });
  });
});
