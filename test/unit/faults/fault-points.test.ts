import { faultPointsFromEnv, parseCrashPoint } from '../../../worker/fault-points';
import { createDependencyHealth, isDatabaseUnavailable } from '../../../lib/dependency-health';

describe('crash points (test-only)', () => {
  it('parse the documented forms and refuse anything else', () => {
    expect(parseCrashPoint('before:gateSend')).toEqual({ when: 'before', name: 'gateSend', nth: 1, template: null });
    expect(parseCrashPoint('after:scanBirthdayPage#2')).toEqual({ when: 'after', name: 'scanBirthdayPage', nth: 2, template: null });
    expect(parseCrashPoint('smtp:sent@welcome')).toEqual({ when: 'smtp', name: 'sent', nth: 1, template: 'welcome' });
    expect(parseCrashPoint('')).toBeNull();
    expect(() => parseCrashPoint('during:gateSend')).toThrow(/SOJOURN_FAULT_CRASH_AT must be/);
  });

  it('are refused in production and absent when not configured', () => {
    expect(() => faultPointsFromEnv({ NODE_ENV: 'production', SOJOURN_FAULT_CRASH_AT: 'before:gateSend' })).toThrow(/must not be set in production/);
    expect(faultPointsFromEnv({})).toEqual({});
  });

  it('leave activities of other names and other templates alone', async () => {
    const { activityWrapper } = faultPointsFromEnv({ SOJOURN_FAULT_CRASH_AT: 'before:sendEmail@welcome' });
    const gate = activityWrapper!('gateSend', async (x: never) => x);
    const send = activityWrapper!('sendEmail', async (x: never) => x);
    expect(await gate({ templateId: 'welcome' } as never)).toEqual({ templateId: 'welcome' });
    expect(await send({ templateId: 'welcome_tips' } as never)).toEqual({ templateId: 'welcome_tips' });
  });
});

describe('dependency health', () => {
  it('says once that a dependency is down and once that it is back', () => {
    const lines: string[] = [];
    let t = 0;
    const log = { warn: (_o: object, m: string) => void lines.push(m), info: (_o: object, m: string) => void lines.push(m) };
    const h = createDependencyHealth(log as never, () => t);
    h.up('database');
    h.down('database', 'connect ECONNREFUSED 127.0.0.1:27017');
    t = 5_000;
    h.down('database', 'again');
    h.down('smtp relay', 'refused');
    h.up('database');
    expect(lines).toEqual(['database is down; waiting for it (retries continue)', 'smtp relay is down; waiting for it (retries continue)', 'database is back']);
    expect(h.isDown('smtp relay')).toBe(true);
  });

  it('tells an unreachable database from a bad query', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { name: 'MongoServerSelectionError' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Operation `contacts.findOne()` buffering timed out after 5000ms'), { name: 'MongooseError' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('y'), { name: 'MongoNetworkError' }) }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('E11000 duplicate key'), { name: 'MongoServerError' }))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
