/**
 * The real preference centre (the public endpoints' fastify plugin over the Contacts data layer), served
 * on a free port for one test file, and a person filling in its form: GET the page behind the signed link,
 * tick the topics they keep, choose a pause, POST. Tests change preferences only through this door.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../lib/config';
import { LinkBuilder } from '../../mail/links';
import { TokenSigner } from '../../mail/tokens';
import { publicPlugin } from '../../server/public';

export interface PreferenceChoice {
  /** Topics left ticked; every other topic is turned off. */
  keep: string[];
  /** "Pause emails for" 30 or 90 days, or no pause. */
  pauseDays?: 30 | 90;
}

export interface PreferenceForm {
  /** The preference link as an email carries it, signed at `at`. */
  url(contactId: string, at: Date): string;
  /** Opens the link and submits the form at `at` (the server's clock). Returns the HTTP status of the POST. */
  submit(contactId: string, choice: PreferenceChoice, at: Date): Promise<number>;
}

export function usePreferenceForm(): PreferenceForm {
  const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), publicBaseUrl: 'http://127.0.0.1', mailDomain: 'sojourn.test' };
  const links = new LinkBuilder(new TokenSigner(config.secret), config.publicBaseUrl, config.mailDomain);
  let app: FastifyInstance;
  let base = '';
  let clock = new Date();
  beforeAll(async () => {
    app = Fastify();
    await app.register(publicPlugin, { config, now: () => clock });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app?.close());
  return {
    url: (contactId, at) => links.preferencesUrl({ contactId }, at),
    async submit(contactId, choice, at) {
      clock = at;
      const path = new URL(links.preferencesUrl({ contactId }, at)).pathname;
      const page = await fetch(base + path);
      const html = await page.text();
      if (page.status !== 200 || !html.includes('name="topics"')) throw new Error(`the preference page did not show its form (HTTP ${page.status})`);
      const offered = [...html.matchAll(/name="topics" value="([^"]+)"/g)].map((m) => m[1]);
      const body = new URLSearchParams();
      for (const t of choice.keep) {
        if (!offered.includes(t)) throw new Error(`the preference form offers no topic "${t}" (it offers ${offered.join(', ')})`);
        body.append('topics', t);
      }
      body.append('pause', choice.pauseDays ? String(choice.pauseDays) : '');
      const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      await res.text();
      return res.status;
    },
  };
}
