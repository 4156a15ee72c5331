/**
 * The open histogram under send-time optimisation, on the real database: human opens stored through the
 * event sink land in the contact's local hour of the week; concurrent opens of one contact are all
 * counted (FerretDB loses concurrent updates of one document, so opens are inserted facts folded by one
 * writer); an event delivered twice counts once, before and after its fold; machine opens never count;
 * erasure drops the histogram.
 */
import { eraseContact, recordEvent, upsertContact } from '../../../data/contacts';
import { foldOpenHours, OpenHourFactModel, readOpenHistogram, recordOpenHour } from '../../../data/open-hours';
import { initDatabase } from '../../../data/db';
import { hourOfWeek } from '../../../rules/hour-of-week';
import { HOOK_TIMEOUT_MS, useTestDatabase } from '../../helpers/db';

jest.setTimeout(90_000);

describe('open histograms', () => {
  useTestDatabase('open_hours');
  beforeAll(() => initDatabase(), HOOK_TIMEOUT_MS);

  const contact = async (email: string, timezone?: string) => {
    const r = await upsertContact({ email, timezone, consent: { email: 'subscribed' } } as never, { source: 'test' });
    return String(r.contact._id);
  };

  it('counts a human open in the contact\'s local hour of the week, and machine opens not at all', async () => {
    const id = await contact('hours@example.com', 'Asia/Shanghai');
    // Tuesday 2026-03-10 11:30 UTC is 19:30 in Shanghai: Tuesday's bucket 24 + 19.
    await recordEvent({ contactId: id, name: 'email.opened', eventId: 'o-human', at: new Date('2026-03-10T11:30:00Z'), data: { machine: false } });
    await recordEvent({ contactId: id, name: 'email.opened', eventId: 'o-proxy', at: new Date('2026-03-10T03:00:00Z'), data: { machine: true } });
    await recordEvent({ contactId: id, name: 'email.clicked', eventId: 'c-1', at: new Date('2026-03-10T03:00:00Z'), data: { machine: false } });
    const h = await readOpenHistogram(id);
    expect(h.total).toBe(1);
    expect(h.hours[24 + 19]).toBe(1);
    expect(hourOfWeek(Date.parse('2026-03-10T11:30:00Z'), 'Asia/Shanghai')).toBe(43);
  });

  it('buckets a contact without a time zone in UTC', async () => {
    const id = await contact('nozone@example.com');
    await recordEvent({ contactId: id, name: 'email.opened', eventId: 'o-utc', at: new Date('2026-03-15T23:10:00Z'), data: { machine: false } });
    const h = await readOpenHistogram(id);
    expect(h.hours[6 * 24 + 23]).toBe(1); // Sunday 23:00
  });

  it('counts 60 concurrent opens of one contact exactly, and a repeated event once, before and after the fold', async () => {
    const id = await contact('busy@example.com', 'Europe/Berlin');
    const at = (i: number) => new Date(Date.UTC(2026, 2, 2 + (i % 5), 6 + (i % 3), 5)); // Mon-Fri, 07-09 Berlin (CET)
    await Promise.all(Array.from({ length: 60 }, (_, i) => recordEvent({ contactId: id, name: 'email.opened', eventId: `busy-${i}`, at: at(i), data: { machine: false } })));
    // The same event again before the fold: stored once, so its fact is inserted once.
    await recordEvent({ contactId: id, name: 'email.opened', eventId: 'busy-0', at: at(0), data: { machine: false } });
    expect(await OpenHourFactModel.countDocuments({ c: id })).toBe(60);
    const folded = await foldOpenHours();
    expect(folded.folded).toBeGreaterThanOrEqual(60);
    // A fact recorded again after its fold (a crash between storing and applying the event) is refused by the histogram.
    expect(await recordOpenHour({ eventId: 'busy-1', contactId: id, at: at(1), timezone: 'Europe/Berlin' })).toBe(true);
    const h = await readOpenHistogram(id);
    expect(h.total).toBe(60);
    const expected = new Array<number>(168).fill(0);
    for (let i = 0; i < 60; i++) expected[hourOfWeek(at(i).getTime(), 'Europe/Berlin')]++;
    expect(h.hours).toEqual(expected);
    expect(await OpenHourFactModel.countDocuments({ c: id })).toBe(0);
  });

  it('drops the histogram when the contact is erased', async () => {
    const id = await contact('gone@example.com', 'UTC');
    await recordEvent({ contactId: id, name: 'email.opened', eventId: 'gone-1', at: new Date('2026-03-10T09:00:00Z'), data: { machine: false } });
    expect((await readOpenHistogram(id)).total).toBe(1);
    await eraseContact(id);
    expect((await readOpenHistogram(id)).total).toBe(0);
  });
});
