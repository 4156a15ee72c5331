/**
 * The payload encryption key ring (SOJOURN_PAYLOAD_KEYS), parsed once with the rest of the configuration.
 * Separate from the codec (lib/payload-codec.ts) so that reading the configuration loads no Temporal code.
 */
/** Keys by id; `current` encrypts. */
export interface PayloadKeyRing {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

const DEV_KEYS = 'dev:7f3c1a9e0b5d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468';

/**
 * Parses SOJOURN_PAYLOAD_KEYS: `id:key[,id:key...]`, each key 32 bytes as 64 hex characters or base64;
 * the first entry encrypts. Outside production a development key is used when the variable is unset.
 */
export function parsePayloadKeys(raw: string | undefined, production: boolean): PayloadKeyRing {
  if (!raw) {
    if (production) throw new Error('SOJOURN_PAYLOAD_KEYS must be set in production (id:key, 32-byte keys; the first one encrypts)');
    raw = DEV_KEYS;
  }
  const keys = new Map<string, Buffer>();
  let current = '';
  for (const [i, entry] of raw.split(',').map((e) => e.trim()).filter(Boolean).entries()) {
    const at = entry.indexOf(':');
    const id = entry.slice(0, at);
    if (at <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error(`SOJOURN_PAYLOAD_KEYS entry ${i + 1}: expected "id:key" with an id of letters, digits, ".", "_" or "-"`);
    const text = entry.slice(at + 1);
    const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (key.length !== 32) throw new Error(`SOJOURN_PAYLOAD_KEYS entry ${i + 1} ("${id}"): the key must be 32 bytes (64 hex characters or base64)`);
    if (keys.has(id)) throw new Error(`SOJOURN_PAYLOAD_KEYS entry ${i + 1}: key id "${id}" appears twice`);
    keys.set(id, key);
    if (i === 0) current = id;
  }
  if (!current) throw new Error('SOJOURN_PAYLOAD_KEYS is empty');
  return { current, keys };
}
