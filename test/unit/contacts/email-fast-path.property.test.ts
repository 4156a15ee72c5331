/**
 * Plain ASCII addresses skip the RFC 5322 parser (lib/email-address.ts, for the import's speed): for
 * every generated address, plain or not, valid or not, the answer must be exactly the parser's.
 */
import fc from 'fast-check';
import { parseEmail, parseEmailThroughParser } from '../../../lib/email-address';

const ATEXT = "abcXYZ0189!#$%&'*+/=?^_`{|}~-";
const atom = fc.string({ unit: fc.constantFrom(...ATEXT.split('')), minLength: 1, maxLength: 12 });
const label = fc.string({ unit: fc.constantFrom(...'aZ09-'.split('')), minLength: 1, maxLength: 10 });
const plainish = fc.tuple(
  fc.array(atom, { minLength: 1, maxLength: 4 }),
  fc.array(label, { minLength: 1, maxLength: 4 }),
  fc.constantFrom('', ' ', '.', '..'),
).map(([locals, labels, noise]) => `${locals.join('.')}${noise.trim()}@${labels.join('.')}${noise === ' ' ? ' ' : ''}`);

describe('the fast path for plain addresses', () => {
  it('gives the same result as the RFC 5322 parser for generated addresses', () => {
    fc.assert(
      fc.property(fc.oneof(plainish, fc.string({ maxLength: 40 }), fc.constantFrom('a@b.co', 'A.B@Example.COM', 'a..b@x.com', '.a@x.com', 'a@x', 'a@-x.com', 'a@x.123', 'user+tag@gmail.com', `${'a'.repeat(65)}@x.com`)), (address) => {
        expect(parseEmail(address)).toEqual(parseEmailThroughParser(address));
      }),
      { numRuns: 3000 },
    );
  });
});
