/**
 * The survey page behind the rating links of a survey email, with the real data layer: the links are
 * taken from a rendered survey template; GET shows the form with the clicked score preselected and stores
 * nothing; POST stores the answer on the contact (`surveys.<id>`) and emits `survey.answered`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import path from 'node:path';
import { loadConfig } from '../../../lib/config';
import type { EmailEvent } from '../../../mail/events';
import { EmailRenderer } from '../../../mail/render';
import { LinkBuilder } from '../../../mail/links';
import { TokenSigner } from '../../../mail/tokens';
import { publicPlugin } from '../../../server/public';
import { getContact, upsertContact } from '../../../data/contacts';
import { initDatabase } from '../../../data/db';
import { useTestDatabase } from '../../helpers/db';
import { FORM, listen, request } from '../mail/fixtures/http';

const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), publicBaseUrl: 'https://go.sojourn.test', mailDomain: 'sojourn.test' };
const links = new LinkBuilder(new TokenSigner(config.secret), config.publicBaseUrl, config.mailDomain);
const renderer = new EmailRenderer({ templatesDir: path.join(__dirname, '..', '..', '..', 'templates'), secret: config.secret, publicBaseUrl: config.publicBaseUrl, mailDomain: config.mailDomain, postalAddress: 'Test' });
const pathOf = (url: string) => new URL(url).pathname;
const ratingLinks = (html: string) => [...html.matchAll(/href="(https:\/\/go\.sojourn\.test\/s\/[^"]+)"/g)].map((m) => m[1]);

describe('the survey page behind rating links', () => {
  useTestDatabase('surveys_page');
  let app: FastifyInstance;
  let base: string;
  const events: EmailEvent[] = [];

  beforeAll(async () => {
    await initDatabase();
    app = Fastify();
    await app.register(publicPlugin, { config, onEvent: async (e) => void events.push(e) });
    base = await listen(app);
  }, 60_000);
  afterAll(() => app.close());

  async function person(local: string): Promise<string> {
    const r = await upsertContact({ email: `${local}@example.com`, firstName: 'Ana', consent: { email: 'subscribed' } });
    return String(r.contact._id);
  }
  function surveyEmail(contactId: string): string[] {
    const html = renderer.render('order_csat', { contact: { firstName: 'Ana' }, email: 'x@example.com', trigger: { name: 'order.completed', data: { orderId: 'A-1', amount: 10 } } }, { contactId, sendKey: `journey/order_survey/${contactId}:send_survey:0` }).html;
    return ratingLinks(html);
  }

  it('renders one signed link per star, and GET shows the form with that score chosen, storing nothing', async () => {
    const id = await person('get');
    const urls = surveyEmail(id);
    expect(urls).toHaveLength(5);
    expect(urls.join(' ')).not.toContain('example.com');
    for (const [i, url] of urls.entries()) {
      const res = await request(base, 'GET', pathOf(url));
      expect(res.statusCode).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toContain(`value="${i + 1}" checked`);
      expect(res.body.match(/ checked/g)).toHaveLength(1);
      expect(res.body).toContain('method="post"');
    }
    expect((await getContact(id))!.surveys).toBeUndefined();
    expect(events.filter((e) => e.contactId === id)).toHaveLength(0);
  });

  it('POST stores score and comment on the contact and emits survey.answered without the comment text', async () => {
    const id = await person('post');
    const url = surveyEmail(id)[1]; // two stars
    const res = await request(base, 'POST', pathOf(url), { headers: FORM, body: 'score=2&comment=' + encodeURIComponent('The room was cold  ') });
    expect(res.statusCode).toBe(200);
    const doc = await getContact(id);
    expect(doc!.surveys!.order_csat).toMatchObject({ score: 2, comment: 'The room was cold' });
    const mine = events.filter((e) => e.contactId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0].name).toBe('survey.answered');
    expect(mine[0].data).toMatchObject({ surveyId: 'order_csat', scale: 'csat', score: 2, commented: true });
    expect(JSON.stringify(mine[0].data)).not.toContain('cold');
  });

  it('the posted score counts (the person changed their mind); the same answer twice is one event id, a changed one a new id', async () => {
    const id = await person('change');
    const url = pathOf(surveyEmail(id)[0]); // one star clicked
    await request(base, 'POST', url, { headers: FORM, body: 'score=4' });
    await request(base, 'POST', url, { headers: FORM, body: 'score=4' });
    expect((await getContact(id))!.surveys!.order_csat).toMatchObject({ score: 4, comment: null });
    await request(base, 'POST', url, { headers: FORM, body: 'score=5&comment=better' });
    expect((await getContact(id))!.surveys!.order_csat).toMatchObject({ score: 5, comment: 'better' });
    const ids = events.filter((e) => e.contactId === id).map((e) => e.eventId);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('refuses scores off the scale, a missing score, a too long comment and a cross-site POST, storing nothing', async () => {
    const id = await person('bad');
    const url = pathOf(surveyEmail(id)[2]);
    for (const body of ['score=0', 'score=6', 'score=2.5', 'score=', 'comment=hi', 'score=3&score=4', 'score=%2B3', 'score=03x', `score=3&comment=${'x'.repeat(1001)}`]) {
      const res = await request(base, 'POST', url, { headers: FORM, body });
      expect({ body: body.slice(0, 30), status: res.statusCode }).toEqual({ body: body.slice(0, 30), status: 400 });
    }
    const cross = await request(base, 'POST', url, { headers: { ...FORM, 'sec-fetch-site': 'cross-site' }, body: 'score=3' });
    expect(cross.statusCode).toBe(403);
    expect((await getContact(id))!.surveys).toBeUndefined();
    expect(events.filter((e) => e.contactId === id)).toHaveLength(0);
  });

  it('refuses a token of another purpose, a forged contact and an expired link', async () => {
    const id = await person('forged');
    const victim = await person('victim');
    expect((await request(base, 'POST', pathOf(links.unsubscribeUrl({ contactId: id })).replace('/u/', '/s/'), { headers: FORM, body: 'score=3' })).statusCode).toBe(400);
    const [payload, sig] = pathOf(surveyEmail(id)[0]).slice(3).split('.');
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace(id, victim)).toString('base64url');
    expect((await request(base, 'POST', `/s/${forged}.${sig}`, { headers: FORM, body: 'score=1' })).statusCode).toBe(400);
    const old = links.surveyUrl({ id: 'order_csat', scale: 'csat', score: 3 }, { contactId: id }, new Date(Date.now() - 31 * 86400_000));
    expect((await request(base, 'POST', pathOf(old), { headers: FORM, body: 'score=3' })).statusCode).toBe(410);
    expect((await getContact(victim))!.surveys).toBeUndefined();
  });

  it('an NPS link offers 0 to 10 and stores a 0', async () => {
    const id = await person('nps');
    const url = pathOf(links.surveyUrl({ id: 'nps_2026', scale: 'nps', score: 0 }, { contactId: id }));
    const page = await request(base, 'GET', url);
    expect(page.body.match(/name="score"/g)).toHaveLength(11);
    expect(page.body).toContain('value="0" checked');
    expect((await request(base, 'POST', url, { headers: FORM, body: 'score=0' })).statusCode).toBe(200);
    expect((await request(base, 'POST', url, { headers: FORM, body: 'score=11' })).statusCode).toBe(400);
    expect((await getContact(id))!.surveys!.nps_2026.score).toBe(0);
  });
});
