import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmailRenderer, type TemplateData } from '../../../mail/render';
import { listTemplateIds, TemplateError } from '../../../mail/templates';

const OPTIONS = { publicBaseUrl: 'https://go.sojourn.test', secret: 'unit', mailDomain: 'sojourn.test', postalAddress: 'Sojourn Ltd, 1 Example Road, Shanghai' };
const ana: TemplateData = { contact: { id: 'c1', firstName: 'Ana', lastName: 'Li', locale: 'en-GB', timezone: 'Europe/London' }, email: 'ana.li@example.com', vars: {} };
const mei: TemplateData = { contact: { id: 'c2', firstName: null, locale: 'zh-CN', timezone: 'Asia/Shanghai' }, email: 'mei@example.cn', vars: {} };

function tempTemplates(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-tpl-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('the shipped templates', () => {
  const renderer = new EmailRenderer(OPTIONS);
  const ids = listTemplateIds();

  it('include every template the journeys name', () => {
    expect(ids).toEqual(expect.arrayContaining(['welcome', 'welcome_tips', 'welcome_offer', 'double_optin', 'birthday', 'winback', 'winback_last_chance', 'verify_email', 'verify_reminder']));
  });

  // What post_purchase and renewal_reminder declare and pass (trigger.data); other templates ignore it.
  const order = { name: 'order.completed', data: { orderId: 'A-1001', amount: 42.5, plan: 'Explorer' } };
  // What the task step's owner email passes (activities/owner-email.ts); other templates ignore it.
  const taskVars = { task: { id: 't_abc', title: 'Call the customer', why: '2 stars', due: '2026-06-03T10:00:00.000Z', url: 'https://go.example.com/v1/tasks/t_abc' }, customer: { id: 'c9', firstName: 'Bo', lastName: null, name: 'Bo' } };
  it.each(ids)('%s renders for an English and a Chinese contact, with subject, HTML and text, and no email address in any URL', (id) => {
    for (const data of [{ ...ana, trigger: order, vars: taskVars }, { ...mei, trigger: order, vars: taskVars }]) {
      const out = renderer.render(id, data, { contactId: String(data.contact.id), sendKey: `journey/x/${data.contact.id}:s:0` });
      expect(out.subject.trim()).not.toBe('');
      expect(out.html).toContain('<html');
      expect(out.text.length).toBeGreaterThan(50);
      expect(out.text).not.toMatch(/<[a-z]+[\s>]/i);
      if (out.marketing) {
        expect(out.html).toContain(out.unsubscribeUrl);
        expect(out.html).toContain('Sojourn Ltd, 1 Example Road, Shanghai');
        expect(out.text).toContain(out.unsubscribeUrl);
      }
      const urls = `${out.html}\n${out.text}\n${out.unsubscribeMailto}`.match(/(https?:\/\/|mailto:)[^\s"'<>]+/g) ?? [];
      for (const url of urls) {
        expect(url.toLowerCase()).not.toContain(String(data.email).toLowerCase());
        expect(decodeURIComponent(url)).not.toContain(String(data.email));
        const token = /\/[upcvors]\/([\w-]+)\./.exec(url)?.[1];
        if (token) expect(Buffer.from(token, 'base64url').toString('utf8')).not.toContain('@');
      }
    }
  });

  it('names the order and its amount from the trigger data, and says which variable is missing without it', () => {
    const out = renderer.render('order_thanks', { ...ana, trigger: order }, { contactId: 'c1' });
    expect(out.subject).toContain('A-1001');
    expect(out.subject).toContain('€42.50');
    expect(out.html).toContain('€42.50');
    expect(() => renderer.render('order_thanks', ana, { contactId: 'c1' })).toThrow(/templates\/order_thanks\.hbs:2:.*missing variable "trigger\.data\.orderId"/);
  });

  it('speaks the contact language and falls back when the first name is missing', () => {
    expect(renderer.render('welcome', ana, { contactId: 'c1' }).subject).toBe('Welcome to Sojourn, Ana');
    expect(renderer.render('welcome', mei, { contactId: 'c2' }).subject).toBe('欢迎来到 Sojourn, 朋友');
  });
});

describe('rendering rules', () => {
  it('names the file, line and variable when a strict template misses a variable', () => {
    const dir = tempTemplates({ 'offer.hbs': '---\nsubject: Hi\nkind: marketing\n---\n<p>Hello</p>\n<p>Your code: {{vars.offerCode}}</p>\n' });
    const renderer = new EmailRenderer({ ...OPTIONS, templatesDir: dir });
    let err: unknown;
    try {
      renderer.render('offer', ana, { contactId: 'c1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toMatchObject({ file: path.join(dir, 'offer.hbs'), line: 6, variable: 'vars.offerCode' });
    expect((err as Error).message).toMatch(/offer\.hbs:6:\d+: missing variable "vars\.offerCode"/);
  });

  it('names the partial file when the error is inside a partial, and the layout when it is in the layout', () => {
    const dir = tempTemplates({
      'a.hbs': '---\nsubject: A\nkind: transactional\n---\n{{> sig}}\n',
      'partials/sig.hbs': 'Regards,\n{{vars.sender}}\n',
      'b.hbs': '---\nsubject: B\nkind: transactional\nlayout: broken\n---\nbody\n',
      'layouts/broken.hbs': '<html>\n<body>{{{body}}}\n{{vars.brand.name}}</body></html>',
    });
    const renderer = new EmailRenderer({ ...OPTIONS, templatesDir: dir });
    expect(() => renderer.render('a', ana, { contactId: 'c1' })).toThrow(/partials\/sig\.hbs:2:\d+: missing variable "vars\.sender"/);
    expect(() => renderer.render('b', ana, { contactId: 'c1' })).toThrow(/layouts\/broken\.hbs:3:\d+: missing variable "vars\.brand"/);
  });

  it('reports a syntax error with the file line', () => {
    const dir = tempTemplates({ 'bad.hbs': '---\nsubject: Hi\nkind: transactional\n---\nline one\n{{#if x}}never closed\n' });
    expect(() => new EmailRenderer({ ...OPTIONS, templatesDir: dir }).render('bad', ana, { contactId: 'c1' })).toThrow(/bad\.hbs:\d+: syntax error/);
  });

  it('escapes HTML in the body but not in the subject or the text part', () => {
    const dir = tempTemplates({ 'x.hbs': '---\nsubject: "Hi {{contact.firstName}}"\nkind: transactional\n---\n<p>Hi {{contact.firstName}}</p>\n' });
    const out = new EmailRenderer({ ...OPTIONS, templatesDir: dir }).render('x', { contact: { firstName: 'Tom & <b>Jerry</b>' } }, { contactId: 'c' });
    expect(out.html).toContain('Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;');
    expect(out.subject).toBe('Hi Tom & <b>Jerry</b>');
    expect(out.text).toContain('Tom & <b>Jerry</b>');
  });

  it('denies prototype access from templates', () => {
    const dir = tempTemplates({ 'p.hbs': '---\nsubject: s\nkind: transactional\n---\nA[{{contact.constructor}}]B[{{contact.__proto__}}]C[{{vars.toString}}]' });
    const warn = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const out = new EmailRenderer({ ...OPTIONS, templatesDir: dir }).render('p', ana, { contactId: 'c' });
    expect(out.html).toBe('A[]B[]C[]');
    warn.mockRestore();
  });

  it('compiles a template once per version and recompiles when the file changes', () => {
    const dir = tempTemplates({ 'v.hbs': '---\nsubject: one\nkind: transactional\n---\nversion one' });
    const renderer = new EmailRenderer({ ...OPTIONS, templatesDir: dir, reloadIntervalMs: 0 });
    const first = renderer.render('v', ana, { contactId: 'c' });
    const compiled = renderer.compiledCount;
    renderer.render('v', ana, { contactId: 'c' });
    expect(renderer.compiledCount).toBe(compiled);
    fs.writeFileSync(path.join(dir, 'v.hbs'), '---\nsubject: two\nkind: transactional\n---\nversion two');
    const second = renderer.render('v', ana, { contactId: 'c' });
    expect(second.html).toBe('version two');
    expect(second.version).not.toBe(first.version);
    expect(renderer.compiledCount).toBeGreaterThan(compiled);
  });

  it('adds the marketing footer when a marketing template has no layout, and the advertising prefix to its subject', () => {
    const dir = tempTemplates({ 'm.hbs': '---\nsubject: Sale\nkind: marketing\n---\n<p>Big sale</p>', 't.hbs': '---\nsubject: Receipt\nkind: transactional\n---\n<p>Thanks</p>' });
    const renderer = new EmailRenderer({ ...OPTIONS, templatesDir: dir, adPrefix: '【广告】' });
    const m = renderer.render('m', ana, { contactId: 'c' });
    expect(m.subject).toBe('【广告】Sale');
    expect(m.html).toContain(m.unsubscribeUrl);
    expect(m.html).toContain(OPTIONS.postalAddress);
    const t = renderer.render('t', ana, { contactId: 'c' });
    expect(t.subject).toBe('Receipt');
    expect(t.html).not.toContain('/u/');
  });

  it('formats dates and money in the contact locale and time zone', () => {
    const dir = tempTemplates({ 'd.hbs': '---\nsubject: d\nkind: transactional\n---\n{{formatDate vars.at "long"}}|{{formatCurrency vars.amount "CNY"}}|{{formatNumber vars.n}}' });
    const renderer = new EmailRenderer({ ...OPTIONS, templatesDir: dir });
    const vars = { at: '2026-12-31T20:00:00Z', amount: 1234.5, n: 1234567 };
    expect(renderer.render('d', { contact: { locale: 'en-US', timezone: 'America/New_York' }, vars }, { contactId: 'c' }).html).toBe('December 31, 2026|CN¥1,234.50|1,234,567');
    expect(renderer.render('d', { contact: { locale: 'zh-CN', timezone: 'Asia/Shanghai' }, vars }, { contactId: 'c' }).html).toBe('2027年1月1日|¥1,234.50|1,234,567');
  });

  it('refuses to track a link that carries the recipient address', () => {
    const dir = tempTemplates({ 'l.hbs': '---\nsubject: l\nkind: transactional\n---\n<a href="{{trackedLink vars.url}}">x</a>' });
    const renderer = new EmailRenderer({ ...OPTIONS, templatesDir: dir });
    expect(() => renderer.render('l', { ...ana, vars: { url: 'https://shop.example/?e=ana.li%40example.com' } }, { contactId: 'c' })).toThrow(/recipient address/);
    expect(renderer.render('l', { ...ana, vars: { url: 'https://shop.example/?id=1' } }, { contactId: 'c' }).html).toMatch(/href="https:\/\/go\.sojourn\.test\/r\//);
  });
});

describe('preview', () => {
  it('writes the HTML and the text with the subject, signing links with a throw-away key', async () => {
    const { writePreview } = await import('../../../mail/preview');
    const { TokenSigner } = await import('../../../mail/tokens');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-preview-'));
    const r = await writePreview({ templateId: 'welcome', contact: { id: 'c1', firstName: 'Ana', locale: 'en' }, outDir: out, config: { ...OPTIONS, adPrefix: undefined }, screenshot: false });
    expect(fs.readFileSync(r.htmlFile, 'utf8')).toContain('Welcome, Ana!');
    expect(fs.readFileSync(r.textFile, 'utf8')).toMatch(/^Subject: Welcome to Sojourn, Ana\n/);
    expect(r.screenshot).toEqual({ skipped: 'disabled (--no-screenshot)' });
    const token = /\/u\/([\w.-]+)/.exec(r.rendered.unsubscribeUrl)![1];
    expect(new TokenSigner(OPTIONS.secret).verify(token, 'unsubscribe').ok).toBe(false);
  });
});
