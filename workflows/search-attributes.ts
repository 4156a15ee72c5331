/**
 * The custom search attributes a journey run carries, so ops can filter runs in the Temporal UI:
 * `SojournJourney = "birthday" AND SojournStep = "wait_for_click"`. Shared by the workflow (upserts),
 * the worker/dev server (registration) and tests (visibility queries).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SOJOURN_JOURNEY = defineSearchAttributeKey('SojournJourney', SearchAttributeType.KEYWORD);
export const SOJOURN_VERSION = defineSearchAttributeKey('SojournVersion', SearchAttributeType.INT);
export const SOJOURN_STEP = defineSearchAttributeKey('SojournStep', SearchAttributeType.KEYWORD);
export const SOJOURN_CONTACT = defineSearchAttributeKey('SojournContact', SearchAttributeType.KEYWORD);
export const SOJOURN_STATUS = defineSearchAttributeKey('SojournStatus', SearchAttributeType.KEYWORD);

/** The split branch a run took, `step:branch` (e.g. `offer_test:holdout`); set at the split. */
export const SOJOURN_VARIANT = defineSearchAttributeKey('SojournVariant', SearchAttributeType.KEYWORD);

export const SOJOURN_SEARCH_ATTRIBUTES = [SOJOURN_JOURNEY, SOJOURN_VERSION, SOJOURN_STEP, SOJOURN_CONTACT, SOJOURN_STATUS, SOJOURN_VARIANT];
