/**
 * A fresh, throw-away database on the real server the test runner started (MONGODB_URI), one per
 * test file. Call `useTestDatabase()` at the top of a describe block; it connects mongoose before
 * the tests and drops the database after them.
 */
import mongoose from 'mongoose';
import { randomBytes } from 'node:crypto';

export function testMongoUri(): string {
  const uri = process.env.MONGODB_URI;
  if (!uri) {
    throw new Error('MONGODB_URI is not set: run integration tests through `npm test` (it starts FerretDB), or set it to a MongoDB/FerretDB server.');
  }
  return uri;
}

/**
 * An `explain` that searched an index, in the words of each database: PostgreSQL (FerretDB's default
 * backend), SQLite (its other one) and MongoDB. A plan with none of them is a scan.
 */
export const INDEX_SEARCH = /"Index Scan"|"Index Only Scan"|"Bitmap Index Scan"|USING (COVERING )?INDEX|USING PRIMARY KEY|IXSCAN|IDHACK|EXPRESS_IXSCAN/;

/** URI of a uniquely named database on the test server. */
export function uniqueDatabaseUri(prefix = 't'): string {
  const url = new URL(testMongoUri());
  url.pathname = `/${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  return url.toString();
}

/** Connecting, creating indexes and dropping a database take seconds on a loaded 2-core box, beyond jest's 5 s default. */
export const HOOK_TIMEOUT_MS = 60_000;

export interface TestDatabase {
  uri: string;
  connection: mongoose.Connection;
}

/** Connects the default mongoose connection to a fresh database for this test file. */
export function useTestDatabase(prefix = 't'): TestDatabase {
  const db = { uri: uniqueDatabaseUri(prefix) } as TestDatabase;
  beforeAll(async () => {
    await mongoose.connect(db.uri, { serverSelectionTimeoutMS: 10_000 });
    db.connection = mongoose.connection;
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    if (mongoose.connection.readyState === 1) {
      await mongoose.connection.dropDatabase().catch(() => undefined);
    }
    await mongoose.disconnect();
  }, HOOK_TIMEOUT_MS);
  return db;
}
