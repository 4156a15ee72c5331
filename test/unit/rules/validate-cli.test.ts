import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const run = (args: string[]) => spawnSync(tsx, [path.join(root, 'cli', 'main.ts'), 'validate', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('sojourn validate', () => {
  it('exits 0 on the shipped journeys/', () => {
    const r = run(['journeys/']);
    expect(r.stdout).toContain('0 errors');
    expect(r.status).toBe(0);
  });

  it('exits 1 on a broken copy and names file:line:col with the offending line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-validate-'));
    try {
      for (const f of fs.readdirSync(path.join(root, 'journeys'))) fs.copyFileSync(path.join(root, 'journeys', f), path.join(dir, f));
      const file = path.join(dir, 'welcome.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('send: welcome_tips', 'send: welcome_tipz'));
      const r = run([dir]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/welcome\.yaml:\d+:\d+: error E_UNKNOWN_TEMPLATE: There is no template "welcome_tipz"\. Did you mean "welcome_tips"\?/);
      expect(r.stdout).toContain('send: welcome_tipz');
      expect(r.stdout).toMatch(/1 error/);

      const json = run([dir, '--format', 'json']);
      expect(json.status).toBe(1);
      const out = JSON.parse(json.stdout) as { ok: boolean; diagnostics: { code: string; range: { start: { line: number } } }[] };
      expect(out.ok).toBe(false);
      expect(out.diagnostics[0]).toMatchObject({ code: 'E_UNKNOWN_TEMPLATE', severity: 'error' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when a marketing template sent by a journey declares no topic, naming the send and the template file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-validate-topic-'));
    try {
      fs.cpSync(path.join(root, 'templates'), path.join(dir, 'templates'), { recursive: true });
      const file = path.join(dir, 'templates', 'welcome_tips.hbs');
      const original = fs.readFileSync(file, 'utf8');
      expect(original).toMatch(/^topic: news$/m);
      fs.writeFileSync(file, original.replace(/^topic: news\n/m, ''));
      const r = run(['journeys/', '--templates', path.join(dir, 'templates')]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/journeys\/welcome\.yaml:\d+:\d+: error E_TEMPLATE_NO_TOPIC: The marketing template "welcome_tips" declares no topic\. .*templates\/welcome_tips\.hbs/);
      expect(r.stdout).toMatch(/1 error/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when a template uses a variable a journey that sends it cannot provide, at the template file:line:col', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-validate-vars-'));
    try {
      fs.cpSync(path.join(root, 'templates'), path.join(dir, 'templates'), { recursive: true });
      // order_thanks is sent by post_purchase, whose trigger declares orderId and amount, not total;
      // welcome is sent by welcome, whose trigger declares no data at all.
      const thanks = path.join(dir, 'templates', 'order_thanks.hbs');
      fs.writeFileSync(thanks, fs.readFileSync(thanks, 'utf8').replace('{{formatCurrency trigger.data.amount "EUR"}}</strong>', '{{formatCurrency trigger.data.total "EUR"}}</strong>'));
      const welcome = path.join(dir, 'templates', 'welcome.hbs');
      fs.writeFileSync(welcome, fs.readFileSync(welcome, 'utf8').replace('<p>{{t en="Thanks for joining', '<p>{{links.unsubscribeNow}} {{trigger.data.orderId}} {{t en="Thanks for joining'));
      const r = run(['journeys/', '--templates', path.join(dir, 'templates')]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/templates\/order_thanks\.hbs:8:\d+: error E_TEMPLATE_VARIABLE: The template uses trigger\.data\.total, which cannot be provided: journey post_purchase sends this template but its trigger declares data orderId, amount/);
      expect(r.stdout).toContain(' 8 | <p>{{t en="We have received your order"');
      const col = Number(/order_thanks\.hbs:8:(\d+):/.exec(r.stdout)?.[1]);
      expect(fs.readFileSync(thanks, 'utf8').split('\n')[7].slice(col - 1)).toMatch(/^trigger\.data\.total/);
      expect(r.stdout).toMatch(/templates\/welcome\.hbs:9:\d+: error E_TEMPLATE_VARIABLE: The template uses links\.unsubscribeNow, .*there is no link "unsubscribeNow"/);
      expect(r.stdout).toMatch(/templates\/welcome\.hbs:9:\d+: error E_TEMPLATE_VARIABLE: The template uses trigger\.data\.orderId, .*journey welcome sends this template but its trigger declares no data/);
      expect(r.stdout).toMatch(/3 errors/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
