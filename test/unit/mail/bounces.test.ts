import fs from 'node:fs';
import path from 'node:path';
import { classifyStatus, parseReport } from '../../../mail/bounces';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../integration/mail/fixtures', name));

describe('parsing bounce and complaint reports', () => {
  it('classifies enhanced status codes: 5.x.x hard, 4.x.x soft, 2.x.x success', () => {
    expect(classifyStatus('5.1.1')).toBe('hard');
    expect(classifyStatus('4.2.2 (mailbox full)')).toBe('soft');
    expect(classifyStatus('2.0.0')).toBe('success');
    expect(classifyStatus('550')).toBe('unknown');
    expect(classifyStatus(null)).toBe('unknown');
  });

  it('reads a DSN hard bounce: the delivery-status part (which mailparser folds into the text) and the original Message-ID', async () => {
    const r = await parseReport(fixture('dsn-hard.eml'));
    expect(r).toMatchObject({ type: 'dsn', classification: 'hard', code: '5.1.1', originalMessageId: '<0123456789abcdef0123456789abcdef@sojourn.test>', reportMessageId: '<dsn-1@mx.example.net>' });
    expect(r.recipients).toEqual([{ action: 'failed', status: '5.1.1', class: 'hard', diagnostic: expect.stringContaining('User unknown') }]);
    expect(r.recipients[0].diagnostic).not.toContain('@');
  });

  it('reads a delayed DSN as a soft bounce and finds the Message-ID inside a returned message/rfc822', async () => {
    const r = await parseReport(fixture('dsn-soft.eml'));
    expect(r).toMatchObject({ type: 'dsn', classification: 'soft', code: '4.2.2', originalMessageId: '<fedcba9876543210fedcba9876543210@sojourn.test>' });
  });

  it('reads an ARF abuse report as a complaint', async () => {
    const r = await parseReport(fixture('arf-complaint.eml'));
    expect(r).toMatchObject({ type: 'arf', classification: 'complaint', code: 'abuse', originalMessageId: '<00112233445566778899aabbccddeeff@sojourn.test>' });
  });

  it('ignores an ordinary message', async () => {
    const r = await parseReport('From: a@b.c\r\nTo: d@e.f\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n');
    expect(r).toMatchObject({ type: 'unknown', classification: 'ignored' });
  });
});
