/**
 * The committed client (client/openapi.json and the openapi-typescript output client/schema.d.ts)
 * matches what the server documents now; `npm run gen:client` regenerates both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openApiDocument } from '../../../client/document';

jest.setTimeout(120_000);

it('has committed client types generated from the current OpenAPI document', async () => {
  const committed = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'client', 'openapi.json'), 'utf8'));
  const current = await openApiDocument();
  expect(committed).toEqual(current);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'client-types-'));
  try {
    const out = path.join(tmp, 'schema.d.ts');
    await promisify(execFile)(path.join(process.cwd(), 'node_modules', '.bin', 'openapi-typescript'), [path.join(process.cwd(), 'client', 'openapi.json'), '-o', out]);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(path.join(process.cwd(), 'client', 'schema.d.ts'), 'utf8'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
