/**
 * Public URLs carried by emails. Every URL is `<publicBaseUrl>/<route>/<signed token>`: ids and expiry
 * only, never an email address (the tests scan every generated URL for the recipient's address).
 */
import { TokenSigner, type SurveyClaim } from './tokens';

export interface LinkContext {
  contactId: string;
  /** Send reference (hash of the ledger key), so events find the run and step that sent the email. */
  sendRef?: string;
}

export class LinkBuilder {
  constructor(
    readonly signer: TokenSigner,
    private readonly baseUrl: string,
    private readonly mailDomain: string,
  ) {}

  unsubscribeUrl(ctx: LinkContext, now?: Date): string {
    return `${this.baseUrl}/u/${this.signer.sign({ purpose: 'unsubscribe', ...ctx, now })}`;
  }

  /** mailto form of List-Unsubscribe; the token in the subject lets a mailbox processor act on it. */
  unsubscribeMailto(ctx: LinkContext, now?: Date): string {
    const token = this.signer.sign({ purpose: 'unsubscribe', ...ctx, now });
    return `mailto:unsubscribe@${this.mailDomain}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`;
  }

  preferencesUrl(ctx: LinkContext, now?: Date): string {
    return `${this.baseUrl}/p/${this.signer.sign({ purpose: 'preferences', ...ctx, now })}`;
  }

  confirmUrl(ctx: LinkContext, now?: Date): string {
    return `${this.baseUrl}/c/${this.signer.sign({ purpose: 'confirm', ...ctx, now })}`;
  }

  verifyUrl(ctx: LinkContext, now?: Date): string {
    return `${this.baseUrl}/v/${this.signer.sign({ purpose: 'verify', ...ctx, now })}`;
  }

  openPixelUrl(ctx: LinkContext, now?: Date): string {
    return `${this.baseUrl}/o/${this.signer.sign({ purpose: 'open', ...ctx, now })}.gif`;
  }

  /** A rating link: opens the survey page with this score preselected (GET stores nothing; the page's button does). */
  surveyUrl(survey: SurveyClaim, ctx: LinkContext, now?: Date): string {
    return `${this.baseUrl}/s/${this.signer.sign({ purpose: 'survey', ...ctx, survey, now })}`;
  }

  /** A click-redirect URL: the target is inside the signed token, so only URLs we signed redirect. */
  trackedUrl(target: string, ctx: LinkContext, now?: Date): string {
    const parsed = new URL(target);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`only http(s) links can be tracked, got "${parsed.protocol}"`);
    return `${this.baseUrl}/r/${this.signer.sign({ purpose: 'click', ...ctx, url: parsed.toString(), now })}`;
  }
}
