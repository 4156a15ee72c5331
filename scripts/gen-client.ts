/**
 * `npm run gen:client`: writes the OpenAPI document the server serves (client/openapi.json), then
 * openapi-typescript turns it into client/schema.d.ts (the npm script runs it), which the openapi-fetch
 * client in client/index.ts is typed by. test/integration/api/client-types.test.ts fails when the
 * committed files no longer match the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openApiDocument } from '../client/document';

async function main(): Promise<void> {
  const out = path.join(__dirname, '..', 'client', 'openapi.json');
  fs.writeFileSync(out, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
