/**
 * Makes the Temporal workflow sandbox's deterministic `Date` recognisable by constructor identity.
 * The sandbox replaces `Date` with a function that returns instances of the original Date, whose
 * `.constructor` is therefore not the global `Date`. The CEL library matches timestamps by
 * constructor (`v.constructor === Date`), so without this every timestamp in an expression fails with
 * "Unsupported type: Date" inside workflows (and only there). `instanceof` is unaffected: both share
 * one prototype. Imported first by workflows/index.ts; it only touches the sandbox's own realm.
 */
if (Date.prototype.constructor !== Date) {
  Object.defineProperty(Date.prototype, 'constructor', { value: Date, writable: true, configurable: true, enumerable: false });
}

export {};
