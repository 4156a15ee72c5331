/**
 * Heuristics that flag machine opens and clicks, so engagement counts people, not proxies:
 * Apple Mail Privacy Protection prefetches every image (generic "Mozilla/5.0" UA, Apple's 17.0.0.0/8),
 * security scanners follow every link (known UAs, HEAD requests, clicks within seconds of the send).
 * Flagged events are still delivered (with `machine: true` and the reasons); consumers decide.
 */

const SCANNER_UA = /(bot|crawler|spider|scanner|barracuda|proofpoint|mimecast|safelinks|microsoft office|ms-office|bingpreview|symantec|messagelabs|trendmicro|forcepoint|fireeye|ironport|python-requests|python-urllib|curl\/|wget|go-http-client|java\/|okhttp|axios|node-fetch|headlesschrome|phantomjs|urlscan|linkchecker|slackbot|facebookexternalhit|preview)/i;

export const PREFETCH_OPEN_SECONDS = 10;
export const BOT_CLICK_SECONDS = 2;

function isAppleIp(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^17\.\d+\.\d+\.\d+$/.test(v4);
}

export interface MachineVerdict {
  machine: boolean;
  reasons: string[];
}

/** An open: Apple MPP (UA exactly "Mozilla/5.0" or an Apple IP), scanners, or a fetch within seconds of the send. */
export function classifyOpen(input: { userAgent?: string; ip?: string; secondsSinceSend: number | null }): MachineVerdict {
  const reasons: string[] = [];
  const ua = (input.userAgent ?? '').trim();
  if (ua === 'Mozilla/5.0') reasons.push('apple_mpp_user_agent');
  if (isAppleIp(input.ip)) reasons.push('apple_mpp_ip');
  if (ua === '') reasons.push('no_user_agent');
  else if (SCANNER_UA.test(ua)) reasons.push('scanner_user_agent');
  if (input.secondsSinceSend !== null && input.secondsSinceSend < PREFETCH_OPEN_SECONDS) reasons.push('opened_within_seconds_of_send');
  return { machine: reasons.length > 0, reasons };
}

/** A click: HEAD requests, known scanner UAs, or a click within 2 s of the send. */
export function classifyClick(input: { method: string; userAgent?: string; secondsSinceSend: number | null }): MachineVerdict {
  const reasons: string[] = [];
  const ua = (input.userAgent ?? '').trim();
  if (input.method === 'HEAD') reasons.push('head_request');
  if (ua === '') reasons.push('no_user_agent');
  else if (SCANNER_UA.test(ua)) reasons.push('scanner_user_agent');
  if (input.secondsSinceSend !== null && input.secondsSinceSend < BOT_CLICK_SECONDS) reasons.push('clicked_within_seconds_of_send');
  return { machine: reasons.length > 0, reasons };
}
