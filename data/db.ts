/**
 * The database connection (the default mongoose connection) and start-up index creation.
 * Works on MongoDB and on FerretDB 1.x (no transactions: see docs/data-model.md).
 */
import mongoose from 'mongoose';
import type { DependencyHealth } from '../lib/dependency-health';
import { ContactModel } from './contact-model';
import { ConsentRecordModel } from './consent-model';
import { SuppressionModel, migrateSuppressions } from './suppression-model';
import { ContactEventModel } from './contact-event-model';
import { AuditModel } from './audit-model';
import { Send, SendClaim, SendRef, migrateSendLedger } from './send-ledger';
import { SendSlot, SendWindow, migrateSendWindows } from './send-window';
import { JourneyMigrationModel, JourneyModel, JourneyVersionModel } from './journey-versions';
import { OutboxModel } from './event-outbox';
import { EventRouteModel } from './event-routes';
import { UsedToken } from './used-tokens';
import { ContactKeyModel, backfillContactKeys } from './contact-keys';

import { OwnerModel } from './owners';
import { TaskModel } from './tasks';

/** The models the Contacts data layer owns; each one's indexes are created by `initDatabase()`. */
export const CONTACT_MODELS = [ContactModel, ContactKeyModel, ConsentRecordModel, SuppressionModel, ContactEventModel, AuditModel] as const;
/** Every model whose unique indexes keep writes idempotent: contacts, the send ledger, journey versions, used tokens. */
export const ALL_MODELS = [...CONTACT_MODELS, Send, SendRef, SendClaim, SendWindow, SendSlot, JourneyVersionModel, JourneyModel, UsedToken, OutboxModel, EventRouteModel, JourneyMigrationModel, OwnerModel, TaskModel] as const;

/**
 * While the database is unreachable an operation fails after 5 s (server selection, or mongoose's
 * command buffer) instead of hanging: the API answers 503 fast and activities retry on their schedule.
 */
export const DB_UNAVAILABLE_AFTER_MS = 5_000;

export async function connectDatabase(uri: string, health?: DependencyHealth): Promise<typeof mongoose> {
  if (mongoose.connection.readyState === 1) return mongoose;
  mongoose.set('bufferTimeoutMS', DB_UNAVAILABLE_AFTER_MS);
  if (health) {
    stopWatching();
    const down = () => health.down('database', 'connection lost');
    const up = () => health.up('database');
    mongoose.connection.on('disconnected', down);
    mongoose.connection.on('reconnected', up);
    mongoose.connection.on('connected', up);
    stopWatching = () => {
      mongoose.connection.off('disconnected', down);
      mongoose.connection.off('reconnected', up);
      mongoose.connection.off('connected', up);
    };
  }
  return mongoose.connect(uri, { serverSelectionTimeoutMS: DB_UNAVAILABLE_AFTER_MS });
}

/** Round trip to the database server (readiness checks). */
export async function pingDatabase(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db || mongoose.connection.readyState !== 1) throw new Error('not connected');
  await db.admin().ping();
}

/** Detaches the health listeners (a deliberate disconnect is not an outage). */
let stopWatching = (): void => undefined;

export async function disconnectDatabase(): Promise<void> {
  stopWatching();
  await mongoose.disconnect();
}

/**
 * Creates the collections and the declared indexes (idempotent; run at every start-up). Unique indexes
 * are what make our writes retry-safe, so a failure here is fatal rather than logged.
 */
export async function initDatabase(): Promise<void> {
  // Layout migrations first: they drop indexes of the earlier layouts that the declared ones replace.
  await migrateKeyedLayouts();
  for (const model of ALL_MODELS) {
    // init() creates the collection and awaits mongoose's automatic index build; createIndexes() then
    // re-asserts the declared indexes so a failed background build surfaces here as an error.
    await (model as mongoose.Model<unknown>).init();
    await (model as mongoose.Model<unknown>).createIndexes();
  }
}

/**
 * Moves data written before the send path became keyed (docs/data-model.md, "Hot paths by key"): ledger
 * rows to `_id` = ledger key (plus their Message-ID references), suppression entries to `_id` = address
 * hash, and recent marketing sends into per-contact frequency windows. Each step is idempotent (safe to
 * re-run after a crash) and runs until it completes once; a marker in `migrations` then skips it.
 */
export async function migrateKeyedLayouts(): Promise<{ sends: number; suppressions: number; windows: number; contactKeys: number }> {
  const markers = mongoose.connection.collection('migrations');
  const once = async (id: string, run: () => Promise<number>): Promise<number> => {
    if (await markers.findOne({ _id: id } as never)) return 0;
    const n = await run();
    await markers.updateOne({ _id: id } as never, { $setOnInsert: { at: new Date(), moved: n } }, { upsert: true });
    return n;
  };
  const sends = await once('sends_keyed_v1', async () => (await migrateSendLedger()).moved);
  const suppressions = await once('suppressions_keyed_v1', async () => (await migrateSuppressions()).moved);
  const windows = (await migrateSendWindows()).contacts;
  // Contacts stored before lookups by key existed get their pointers (data/contact-keys.ts).
  const contactKeys = await once('contact_keys_v1', backfillContactKeys);
  return { sends, suppressions, windows, contactKeys };
}
