/**
 * Replays every recorded history (test/replay/fixtures, written by test/replay/record.ts) against the
 * current workflow code. A change to workflow code that alters the commands a recorded run issued,
 * without `patched()`, fails here with a determinism violation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../workflow/bundle';
import { testDataConverter } from '../helpers/temporal';

const FIXTURES = path.join(__dirname, 'fixtures');

interface Fixture { format: string; workflowId: string; events: number; data: string }

function load(file: string) {
  const f = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as Fixture;
  return { workflowId: f.workflowId, history: temporal.api.history.v1.History.decode(Buffer.from(f.data, 'base64')) };
}

const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();

describe('replaying recorded histories', () => {
  jest.setTimeout(120_000);

  it('has a recorded history for every shipped journey and every scan', () => {
    for (const name of ['welcome', 'birthday', 'reengagement', 'verification']) expect(files).toContain(`journey-${name}.json`);
    expect(files).toEqual(expect.arrayContaining(['scan-audience.json', 'scan-birthday.json', 'engine-step-kinds.json', 'engine-yearly-continue-as-new.json']));
  });

  it('replays every recorded history with the current workflow code without a determinism violation', async () => {
    const results: { file: string; error?: string }[] = [];
    const histories = files.map(load);
    let i = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), replayName: 'sojourn-replay', dataConverter: testDataConverter() }, histories)) {
      results.push({ file: files[i++], error: r.error ? `${r.error.name}: ${r.error.message}` : undefined });
    }
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(results).toHaveLength(files.length);
  });
});
