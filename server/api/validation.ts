/**
 * Request validation for the integrator routes: bodies strictly as the API's core routes do (no type
 * coercion, unknown properties refused), query strings and path parameters with type coercion (they
 * are text on the wire: `?limit=50`, `?dryRun=true`) and defaults. A body declared as a binary upload
 * (`format: binary`, e.g. a CSV) is a stream and is not validated here.
 */
import type { FastifyInstance } from 'fastify';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const strict = addFormats(new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false }));
const coercing = addFormats(new Ajv({ allErrors: false, coerceTypes: true, removeAdditional: false, useDefaults: true, strict: false }));

export function useApiValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') {
      if ((schema as { format?: string }).format === 'binary') return () => true;
      return strict.compile(schema);
    }
    return coercing.compile(schema);
  });
}
