import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { Readable } from 'node:stream';
import { csvRecords, parseCsvRecord } from '../../../lib/csv-records';
import { readTimeZone } from '../../../lib/time-zone-reader';
import { readBirthday } from '../../../lib/date-reader';
import { KeyFlags } from '../../../lib/key-flags';
import { csvCell, unescapeFormula } from '../../../data/import-report';
import { prepareContact } from '../../../data/contact-input';

const encode = (rows: string[][]) => rows.map((r) => r.map((v) => (/[",\r\n]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v)).join(',')).join('\n');

describe('reading what people write', () => {
  it('reads valid CSV exactly as csv-parse does (property, 300 files)', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' ', 'é', '中'), maxLength: 6 });
    await fc.assert(fc.asyncProperty(fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 8 }), async (rows) => {
      const text = `${encode(rows)}\n`;
      const ours: string[][] = [];
      for await (const r of csvRecords(Readable.from([Buffer.from(text)]))) if (r.ok) ours.push(r.fields);
      expect(ours).toEqual(parse(text, { relax_column_count: true, skip_empty_lines: true }));
    }), { numRuns: 300 });
  });

  it('reports a broken quote as an error of its line and reads the next lines as records', () => {
    expect(parseCsvRecord('a,"b"c,d')).toEqual({ error: expect.stringContaining('column 2') });
    expect(parseCsvRecord('a,"b,c')).toEqual({ open: true });
    expect(parseCsvRecord('a,b"c,')).toEqual({ fields: ['a', 'b"c', ''] });
  });

  it('maps time-zone names people use to IANA zones, says when it guessed, refuses what is ambiguous', () => {
    expect(readTimeZone('Asia/Shanghai')).toMatchObject({ ok: true, zone: 'Asia/Shanghai', how: 'exact' });
    expect(readTimeZone('asia/shanghai')).toMatchObject({ ok: true, zone: 'Asia/Shanghai', how: 'exact' });
    expect(readTimeZone('Beijing')).toMatchObject({ ok: true, zone: 'Asia/Shanghai', how: 'mapped' });
    expect(readTimeZone('São Paulo')).toMatchObject({ ok: true, zone: 'America/Sao_Paulo', how: 'mapped' });
    expect(readTimeZone('GMT+8')).toMatchObject({ ok: true, zone: 'Etc/GMT-8', how: 'mapped' });
    expect(readTimeZone('UTC-05:00')).toMatchObject({ ok: true, zone: 'Etc/GMT+5', how: 'mapped' });
    expect(readTimeZone('Japan')).toMatchObject({ ok: true, zone: 'Asia/Tokyo', how: 'mapped' });
    expect(readTimeZone('EST')).toMatchObject({ ok: true, zone: 'America/New_York', how: 'guessed' });
    expect(readTimeZone('GMT+5:30')).toMatchObject({ ok: true, zone: 'Asia/Kolkata', how: 'guessed' });
    expect(readTimeZone('CST')).toMatchObject({ ok: false, code: 'E_TIMEZONE_AMBIGUOUS' });
    expect(readTimeZone('Springfield')).toMatchObject({ ok: false, code: 'E_TIMEZONE_AMBIGUOUS' });
    expect(readTimeZone('Springfield, MO')).toMatchObject({ ok: true, zone: 'America/Chicago' });
    expect(readTimeZone('Mars/Olympus')).toMatchObject({ ok: false, code: 'E_TIMEZONE' });
    expect(readTimeZone('x'.repeat(500_000))).toMatchObject({ ok: false, code: 'E_TIMEZONE' });
  });

  it('reads dates in ISO always, month names when lenient, day/month numbers only in the order given', () => {
    expect(readBirthday('17/05/1990', { order: 'dmy' })).toMatchObject({ ok: true, birthday: { month: 5, day: 17, year: 1990 } });
    expect(readBirthday('05/17/1990', { order: 'mdy' })).toMatchObject({ ok: true, birthday: { month: 5, day: 17, year: 1990 } });
    expect(readBirthday('03/04/1990', { lenient: true })).toMatchObject({ ok: false, code: 'E_BIRTHDAY_ORDER' });
    expect(readBirthday('31/04', { order: 'dmy', lenient: true })).toMatchObject({ ok: false, code: 'E_BIRTHDAY' });
    expect(readBirthday('29/02', { order: 'dmy' })).toMatchObject({ ok: true, birthday: { month: 2, day: 29 } });
    expect(readBirthday('May 17, 1990', { lenient: true })).toMatchObject({ ok: true, birthday: { month: 5, day: 17, year: 1990 } });
    expect(readBirthday('May 17, 1990')).toMatchObject({ ok: false, code: 'E_BIRTHDAY' });
    expect(readBirthday('yesterday', { lenient: true })).toMatchObject({ ok: false, code: 'E_BIRTHDAY' });
    expect(readBirthday('12', { lenient: true })).toMatchObject({ ok: false });
  });

  it('keeps the person and lists dropped fields as warnings; strict rejects with the first problem', () => {
    const input = { email: 'a@example.com', phone: 'n/a', timezone: 'EST', birthday: '1990-02-30', tags: ['ok', 'bad tag!'], attributes: { __proto__x: 1, ['__proto__']: 2 } as Record<string, unknown> };
    const lenient = prepareContact(input, { lenient: true });
    expect(lenient.ok && lenient.warnings.map((w) => [w.pointer, w.code, w.kind])).toEqual([
      ['/phone', 'E_PHONE_SYNTAX', 'dropped'], ['/timezone', 'W_TIMEZONE_GUESSED', 'guessed'], ['/birthday', 'E_BIRTHDAY', 'dropped'], ['/tags/1', 'E_TAG', 'dropped'],
      ['/attributes/__proto__', 'E_ATTRIBUTE', 'dropped'],
    ]);
    expect(lenient.ok && Object.keys(lenient.contact.attributes)).toEqual(['__proto__x']);
    expect(lenient.ok && lenient.contact.fields.timezone).toBe('America/New_York');
    expect(prepareContact(input)).toMatchObject({ ok: false, error: { code: 'E_PHONE_SYNTAX', pointer: '/phone' } });
    expect(prepareContact({ email: 'bad@@x.com', phone: '+86 138 0013 8000' }, { lenient: true })).toMatchObject({ ok: false, error: { code: 'E_EMAIL_SYNTAX' } });
  });

  it('escapes formula cells in the report and reads them back unchanged (property)', () => {
    fc.assert(fc.property(fc.string(), (v) => {
      const cell = csvCell(v);
      const read = parse(`${cell}\n`, { relax_column_count: true })[0]?.[0] ?? '';
      expect(read).not.toMatch(/^[=+\-@\t\r]/);
      expect(unescapeFormula(read)).toBe(unescapeFormula(v) === v ? v : read.slice(1));
    }), { numRuns: 500 });
  });

  it('remembers keys by 64-bit hash with flags', () => {
    const k = new KeyFlags(4);
    for (let i = 0; i < 50_000; i++) k.add(`user${i}@example.com`, 1);
    k.add('user7@example.com', 2);
    expect(k.size).toBe(50_000);
    expect(k.get('user7@example.com')).toBe(3);
    expect(k.get('user49999@example.com')).toBe(1);
    expect(k.get('nobody@example.com')).toBe(0);
  });
});
