import fc from 'fast-check';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, parsePayloadKeys } from '../../../lib/payload-codec';

const K1 = '11'.repeat(32);
const K2 = Buffer.alloc(32, 2).toString('base64');
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('the payload codec (AES-256-GCM, key id in the metadata)', () => {
  it('round-trips any JSON value, and the encoded payload shows neither the value nor its encoding', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(`k1:${K1}`, true));
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (value) => {
      const plain = defaultPayloadConverter.toPayload(value);
      const [enc] = await codec.encode([plain]);
      expect(text(enc.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(enc.metadata?.[KEY_ID_METADATA])).toBe('k1');
      const [dec] = await codec.decode([enc]);
      expect(defaultPayloadConverter.fromPayload(dec)).toEqual(value === null ? null : JSON.parse(JSON.stringify(value)));
    }), { numRuns: 50 });
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload({ firstName: 'Ana Lima', email: 'ana@example.com' })]);
    const raw = Buffer.from(enc.data!).toString('latin1');
    expect(raw).not.toContain('Ana Lima');
    expect(raw).not.toContain('json/plain');
  });

  it('after a rotation, the new key encrypts and the old key still decrypts what it wrote', async () => {
    const old = new EncryptionCodec(parsePayloadKeys(`k1:${K1}`, true));
    const rotated = new EncryptionCodec(parsePayloadKeys(`k2:${K2},k1:${K1}`, true));
    const [byOld] = await old.encode([defaultPayloadConverter.toPayload('before')]);
    const [byNew] = await rotated.encode([defaultPayloadConverter.toPayload('after')]);
    expect(text(byNew.metadata?.[KEY_ID_METADATA])).toBe('k2');
    const [a, b] = await rotated.decode([byOld, byNew]);
    expect(defaultPayloadConverter.fromPayload(a)).toBe('before');
    expect(defaultPayloadConverter.fromPayload(b)).toBe('after');
    await expect(old.decode([byNew])).rejects.toThrow(/key "k2", which is not in SOJOURN_PAYLOAD_KEYS/);
  });

  it('passes unencrypted payloads through (histories from before encryption) and refuses tampered ciphertext', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(`k1:${K1}`, true));
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await codec.decode([plain])).toEqual([plain]);
    const [enc] = await codec.encode([plain]);
    const data = Buffer.from(enc.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...enc, data }])).rejects.toThrow();
    await expect(codec.decode([{ ...enc, data: data.subarray(0, 10) }])).rejects.toThrow(/truncated/);
    // The key id is authenticated: relabelling a payload with another key of the ring fails.
    const two = new EncryptionCodec(parsePayloadKeys(`k1:${K1},k9:${K1}`, true));
    await expect(two.decode([{ ...enc, metadata: { ...enc.metadata, [KEY_ID_METADATA]: Buffer.from('k9') } }])).rejects.toThrow();
  });

  it('parses key rings with clear errors, and requires one in production', () => {
    expect(() => parsePayloadKeys(undefined, true)).toThrow(/SOJOURN_PAYLOAD_KEYS must be set in production/);
    expect(parsePayloadKeys(undefined, false).current).toBe('dev');
    expect(() => parsePayloadKeys('k1:abcd', true)).toThrow(/entry 1 \("k1"\): the key must be 32 bytes/);
    expect(() => parsePayloadKeys(`k1:${K1},k1:${K1}`, true)).toThrow(/entry 2: key id "k1" appears twice/);
    expect(() => parsePayloadKeys(`:${K1}`, true)).toThrow(/entry 1: expected "id:key"/);
    expect(parsePayloadKeys(` a:${K1} , b:${K2} `, true).keys.size).toBe(2);
  });
});
