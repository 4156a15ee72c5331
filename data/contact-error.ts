/**
 * The contacts data layer's refusal, as a value with a code, the JSON pointer of the bad field and the
 * HTTP status the API answers with (server/api/errors.ts maps it).
 */
export class ContactError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly pointer = '',
    /** HTTP status the API answers with. */
    readonly status = 400,
  ) {
    super(message);
  }
}
