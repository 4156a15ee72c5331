/**
 * `sojourn classify` on the demo data (demo/contacts.json loaded the way `npm start` loads it), run as
 * the real command against the test database: the dry run prints the distribution and stores nothing;
 * the real run stores the value and the rule on each contact.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { useContactsDatabase } from './setup';
import { ContactModel } from '../../../data/contact-model';
import { createIngest } from '../../../engine/ingest';
import { loadDemoContacts } from '../../../server/demo';

const root = path.join(__dirname, '..', '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

describe('sojourn classify on the demo data', () => {
  const { db, contacts } = useContactsDatabase('classify_cli');
  const run = (args: string[]) => spawnSync(tsx, [path.join(root, 'cli', 'main.ts'), 'classify', ...args], {
    cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, MONGODB_URI: db.uri, SOJOURN_ENV: 'development' },
  });

  beforeAll(async () => {
    // The demo's sign-ups are announced through the ingest, stored only (no engine here).
    await loadDemoContacts({ ingest: createIngest({ dispatcher: null, contacts }) });
  }, 60_000);

  it('--dry-run prints contacts per class with the rule that matched, and stores nothing', async () => {
    const r = run(['importance', '--dry-run']);
    expect(r.stderr).toMatch(/^(classified \d+\/~\d+ contacts, \d+\/s\n)*$/); // progress only, no error
    expect(r.status).toBe(0);
    console.log(`$ sojourn classify importance --dry-run   (demo data)\n${r.stdout}`);
    const rows = Object.fromEntries(r.stdout.split('\n').filter((l) => /^ {2}\w+ +\d+ /.test(l)).map((l) => {
      const [cls, n, , rule] = l.trim().split(/\s+/);
      return [cls, { n: Number(n), rule }];
    }));
    // demo/contacts.json: Olivia (1,350 spent) and Ahmed (11 orders) are VIPs; María and Wei bought twice or more.
    expect(rows).toEqual({
      vip: { n: 2, rule: 'importance#0' }, potential: { n: 2, rule: 'importance#1' }, normal: { n: 6, rule: 'importance#otherwise' },
    });
    expect(r.stdout).toContain('over 10 contacts (dry run: nothing stored)');
    expect(r.stdout).toContain('would change 10 of 10 contacts');
    expect(await ContactModel.countDocuments({ 'classification.importance': { $exists: true } })).toBe(0);
    expect(await ContactModel.countDocuments({ rfmScore: { $exists: true } })).toBe(0);
  }, 150_000);

  it('without --dry-run stores value, rule and reason; a second run changes nothing', async () => {
    const r = run(['business_type', '--format', 'json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { scanned: number; changed: number; classes: { value: string; contacts: number }[] };
    expect(out).toMatchObject({ scanned: 10, changed: 10 });
    expect(Object.fromEntries(out.classes.map((c) => [c.value, c.contacts]))).toEqual({ complaint: 0, after_sales: 4, pre_sales: 6 });
    const olivia = await ContactModel.findOne({ emailKey: 'olivia.brown@example.com' }).lean().exec();
    expect(olivia!.classification.businessType).toMatchObject({ value: 'after_sales', rule: 'business_type#1', reason: 'has bought (orders, reviews, service and renewals)' });
    expect(olivia!.rfmScore).toMatchObject({ recency: 5, frequency: 3, monetary: 4 });
    const again = run(['businessType', '--format', 'json']); // the field name works too
    expect(JSON.parse(again.stdout)).toMatchObject({ scanned: 10, changed: 0 });
  }, 150_000);

  it('names the rule sets there are when the one asked for does not exist (exit 2)', () => {
    const r = run(['importanse', '--dry-run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no contact rule set "importanse"');
    expect(r.stderr).toContain('importance');
  }, 60_000);
});
