/**
 * MongoDB's duplicate-key error (E11000), the answer every idempotent write here relies on: an insert
 * under a unique key that exists means "already done" (docs/data-model.md). One place that knows its
 * shapes, the single error and the bulk error of an unordered insertMany.
 */

const DUPLICATE_KEY = 11000;

/** True for a duplicate-key error: the write hit a unique key that already exists. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * True when an unordered bulk insert failed only on duplicate keys, so every row is now stored (by this
 * call or an earlier one); false when any row failed for another reason.
 */
export function onlyDuplicateKeys(err: unknown): boolean {
  if (isDuplicateKey(err)) return true;
  const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] } | null)?.writeErrors;
  return Boolean(writeErrors?.length) && writeErrors!.every((e) => (e.code ?? e.err?.code) === DUPLICATE_KEY);
}

/**
 * The positions of the documents an unordered `insertMany` of `count` documents found already stored
 * (every other one is now inserted). Throws `err` again when any document failed for another reason.
 */
export function duplicatePositions(err: unknown, count: number): Set<number> {
  const writeErrors = (err as { writeErrors?: { index: number; code?: number; err?: { code?: number } }[] } | null)?.writeErrors;
  if (writeErrors?.length && onlyDuplicateKeys(err)) return new Set(writeErrors.map((e) => e.index));
  if (!writeErrors?.length && count === 1 && isDuplicateKey(err)) return new Set([0]);
  throw err;
}
