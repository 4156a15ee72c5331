/** The MongoDB filter of a compiled segment for a scan at `now`, or null to evaluate per contact. */
import { materializeFilter, type Filter } from './pushdown';
import type { SegmentPlan } from './plan';

export function segmentFilter(segment: SegmentPlan, now: Date): Filter | null {
  return segment.filter ? materializeFilter(segment.filter, now) : null;
}
