/** Shared set-up for the Contacts integration tests: a fresh database with the indexes, and a repository. */
import mongoose from 'mongoose';
import { HOOK_TIMEOUT_MS, useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { createContacts } from '../../../data/contacts';

export const TEST_KEYS = {
  secret: 'contacts-test-secret',
  phoneKey: '1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100',
};

export function useContactsDatabase(prefix: string) {
  const db = useTestDatabase(prefix);
  beforeAll(async () => {
    await initDatabase();
  }, HOOK_TIMEOUT_MS);
  return { db, contacts: createContacts(TEST_KEYS) };
}

/** Every raw document of every collection in the database, as JSON text (for PII scans). */
export async function dumpAllCollections(): Promise<string> {
  const out: string[] = [];
  for (const c of await mongoose.connection.db!.listCollections().toArray()) {
    const docs = await mongoose.connection.db!.collection(c.name).find({}).toArray();
    out.push(`${c.name}: ${JSON.stringify(docs)}`);
  }
  return out.join('\n');
}
