import { createLogger, scrubPii } from '../../../lib/logger';

describe('logs', () => {
  it('never carry an email address or phone number in clear', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    log.info({ contactId: 'c1', email: 'ana@example.com', contact: { phone: '+8613800138000', firstName: 'Ana' } }, 'imported');
    const out = lines.join('');
    expect(out).toContain('c1');
    expect(out).not.toContain('ana@example.com');
    expect(out).not.toContain('13800138000');
    expect(out).not.toContain('Ana"');
  });
  it('scrubs addresses and numbers out of free text', () => {
    expect(scrubPii('duplicate key: { emailKey: "ana@example.com" } phone +86 138 0013 8000')).toBe('duplicate key: { emailKey: "[email]" } phone [phone]');
  });
  it('keeps server addresses (127.0.0.1) readable, while a number written with dots is still scrubbed', () => {
    expect(scrubPii('connect ECONNREFUSED 127.0.0.1:27017')).toBe('connect ECONNREFUSED 127.0.0.1:27017');
    expect(scrubPii('call 138.0013.8000 or 10.0.0.12')).toBe('call [phone] or 10.0.0.12');
  });
});
