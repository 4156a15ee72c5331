/**
 * The vocabulary is declared once (rules/event-vocabulary.ts) and documented as a table
 * (docs/events.md); the table is that record, row for row. Journeys may only listen for its names or
 * for custom events they declare.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EVENT_VOCABULARY, type EventSpec } from '../../../rules/event-vocabulary';
import { compileJourney } from '../../../rules/compile';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'events.md'), 'utf8');

describe('the event vocabulary', () => {
  it('is the table of docs/events.md, row for row', () => {
    const table = doc.slice(doc.indexOf('<!-- vocabulary:start -->'), doc.indexOf('<!-- vocabulary:end -->'));
    const rows = [...table.matchAll(/^\| `([^`]+)` \| (\w+) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    const declared = Object.entries(EVENT_VOCABULARY as Record<string, EventSpec>).map(([name, spec]) => [
      name, spec.source, spec.meaning + (spec.machineFiltered ? ' (machine opens/clicks are stored, never dispatched)' : ''),
    ]);
    expect(rows).toEqual(declared);
  });

  it('lets a journey listen for a declared custom event, and refuses one nothing emits', () => {
    const journey = (custom: string) => `journey: carts
${custom}
trigger:
  event: cart.abandoned
exit_when: contact.consent.email != "subscribed"
steps:
  - id: wait_for_order
    wait_for: { event: order.completed, timeout: 1d }
`;
    const codes = (text: string) => compileJourney({ path: 'carts.yaml', text }, { templates: {} }).diagnostics.map((d) => d.code);
    expect(codes(journey('custom_events: [cart.abandoned]'))).not.toContain('E_UNDECLARED_EVENT');
    expect(codes(journey(''))).toContain('E_UNDECLARED_EVENT');
  });
});
