/**
 * Indexes for date triggers on contact dates other than birthday (`date: { field: attributes.renewalDate }`):
 * the daily scan asks for a few date ranges of that field (activities/date-scan.ts), which a database
 * with an index on the field answers from the index instead of reading every contact (MongoDB; FerretDB
 * 1.24 reads the collection for any filter but `_id`, see docs/scaling.md). Created at deploy, idempotent.
 */
import { ContactModel } from './contact-model';

/** Creates (or keeps) a sparse ascending index on a contact date path such as `attributes.renewalDate`. */
export async function ensureContactDateIndex(path: string): Promise<string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) throw new Error(`not a contact field path: ${path}`);
  return ContactModel.collection.createIndex({ [path]: 1 }, { name: `date_${path}`, sparse: true });
}
