/**
 * Payload encryption for Temporal: every payload a client, worker or CLI sends (workflow inputs and
 * results, signals, queries, activity inputs and results: the contact view with names and attributes)
 * is stored in Temporal's history as AES-256-GCM ciphertext. The key id travels in the payload metadata,
 * so keys rotate: the first key of the ring encrypts, every key of the ring still decrypts.
 *
 * Encoded payload: metadata { encoding: "binary/encrypted", "encryption-key-id": <id> },
 * data = iv (12 bytes) | ciphertext of the whole original Payload (protobuf) | tag (16 bytes), with the
 * key id as additional authenticated data. Payloads without that encoding pass through `decode`
 * unchanged (histories recorded before encryption, search attributes).
 */
import crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { PayloadKeyRing } from './payload-keys';

export { parsePayloadKeys, type PayloadKeyRing } from './payload-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

/** AES-256-GCM payload codec over a key ring. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: PayloadKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.ring.current;
    const key = this.ring.keys.get(id)!;
    return payloads.map((p) => {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(id));
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (text(p.metadata?.encoding) !== ENCRYPTED_ENCODING) return p;
      const id = text(p.metadata?.[KEY_ID_METADATA]);
      const key = this.ring.keys.get(id);
      if (!key) throw new Error(`payload encrypted with key "${id}", which is not in SOJOURN_PAYLOAD_KEYS (keep old keys in the ring after a rotation)`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      if (data.length < 28) throw new Error(`encrypted payload (key "${id}") is truncated`);
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The data converter every Sojourn client and worker uses (the default JSON converter, then encryption). */
export function sojournDataConverter(ring: PayloadKeyRing): { payloadCodecs: PayloadCodec[] } {
  return { payloadCodecs: [new EncryptionCodec(ring)] };
}
