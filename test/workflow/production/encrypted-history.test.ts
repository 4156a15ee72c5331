/**
 * Payload encryption end to end on the time-skipping server: a run that reads a contact (name,
 * attributes) and sends an email leaves nothing of that contact readable in the raw history the
 * server stores, while the same history decoded with the key shows it (so the scan could fail).
 */
import { temporal } from '@temporalio/proto';
import { EncryptionCodec } from '../../../lib/payload-codec';
import { loadConfig } from '../../../lib/config';
import { contact, deploy, plan, useEngine } from '../helpers';

const NAME = 'Zephyrine';
const ATTRIBUTE = 'vermilion-lighthouse';

describe('workflow history with the payload codec', () => {
  const engine = useEngine();

  it('holds no contact name or attribute in clear, and the key decodes them', async () => {
    const p = await deploy(plan('enc', [
      { id: 'check', kind: 'if', cond: { source: `contact.attributes.colour == "${ATTRIBUTE}"` }, then: 'tag', else: null },
      { id: 'tag', kind: 'update', addTags: ['coloured'] },
    ]));
    const id = await contact({ firstName: NAME, attributes: { colour: ATTRIBUTE } });
    const handle = await engine.start(p, id);
    await handle.result();

    const raw = await engine.env.connection.workflowService.getWorkflowExecutionHistory({
      namespace: 'default', execution: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
    });
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(raw.history!).finish());
    for (const secret of [NAME, ATTRIBUTE, 'example.com']) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.includes(Buffer.from(Buffer.from(secret).toString('base64').slice(0, 8)))).toBe(false);
    }
    expect(bytes.includes(Buffer.from('binary/encrypted'))).toBe(true);
    expect(bytes.includes(Buffer.from(id))).toBe(true); // ids stay searchable (search attribute SojournContact)

    // Decoded with the key, the contact read by the run is there: the scan above looks at real data.
    const codec = new EncryptionCodec(loadConfig().payloadKeys);
    const payloads: Parameters<EncryptionCodec['decode']>[0] = [];
    for (const e of raw.history!.events ?? []) {
      payloads.push(...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []));
      // Local activities (the contact read, decision 31) record their results in marker details.
      for (const d of Object.values(e.markerRecordedEventAttributes?.details ?? {})) payloads.push(...(d.payloads ?? []));
    }
    const decoded = Buffer.concat((await codec.decode(payloads)).map((x) => Buffer.from(x.data ?? [])));
    expect(decoded.includes(Buffer.from(NAME))).toBe(true);
    expect(decoded.includes(Buffer.from(ATTRIBUTE))).toBe(true);
  });
});
