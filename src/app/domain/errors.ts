/**
 * Stable error codes. Messages are for logs; users see text chosen by the renderers. Callers
 * recognise failures by code (see isOutage), never by class or message.
 */
export type ErrorCode =
  /** A remote service answered with a failure, or could not be reached (after any retries). */
  | 'UPSTREAM_FAILED'
  /** A remote service answered, but not in the shape its contract promises. */
  | 'UPSTREAM_INVALID_RESPONSE'
  | 'NOTIFICATION_INVALID'
  | 'NOTIFICATION_UNAUTHORIZED'
  | 'INVALID_JOIN_URL'
  | 'INVALID_ARGUMENT'
  | 'STORE_FAILED'
  /** The database is locked by another writer; sending the request again shortly may succeed. */
  | 'STORE_BUSY'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

/** Codes that mean "a service we depend on failed": answered as an audited `upstream_failed`. */
const OUTAGE_CODES: ReadonlySet<ErrorCode> = new Set(['UPSTREAM_FAILED', 'UPSTREAM_INVALID_RESPONSE']);

/** An error with a stable code that keeps its cause. Thrown for bugs and outages only. */
export class BouncerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BouncerError';
    this.code = code;
  }
}

/**
 * What an administrator most likely has to do about an upstream failure, when the provider can
 * tell: a stable key that renderers turn into words.
 * - 'remove-participant-policy': Graph refused a removal (403); the tenant has probably not allowed
 *   the app to remove participants (`Set-CsApplicationMeetingConfiguration
 *   -AllowRemoveParticipantAppIds @{Add="<app id>"}`).
 * - 'join-tenant-permissions': Graph refused to join the meeting with error 7504 ("Insufficient
 *   enterprise tenant permissions"): the meeting's tenant has not consented to the app's calling
 *   permissions (Calls.JoinGroupCall.All), or the app is not allowed there.
 * - 'join-tenant-mismatch': Graph refused to join with error 7505 ("Request denied due to tenant
 *   mismatch"): the meeting belongs to another tenant than the one the join named (the app's, for a
 *   SingleTenant app).
 * - 'meeting-access-policy': Graph refused to read or change a meeting's options (403): the app lacks
 *   OnlineMeetings.ReadWrite.All, or no application access policy lets it act for the organizer
 *   (`New-CsApplicationAccessPolicy` and `Grant-CsApplicationAccessPolicy`; up to 30 minutes to apply).
 */
export const UPSTREAM_HINTS = ['remove-participant-policy', 'join-tenant-permissions', 'join-tenant-mismatch', 'meeting-access-policy'] as const;
export type UpstreamHint = (typeof UPSTREAM_HINTS)[number];

export function isUpstreamHint(value: unknown): value is UpstreamHint {
  return (UPSTREAM_HINTS as readonly unknown[]).includes(value);
}

export interface UpstreamDetails {
  /** UPSTREAM_FAILED (default) or UPSTREAM_INVALID_RESPONSE. */
  code?: Extract<ErrorCode, 'UPSTREAM_FAILED' | 'UPSTREAM_INVALID_RESPONSE'>;
  status?: number;
  requestId?: string;
  retryable?: boolean;
  vendorCode?: string;
  moreInfo?: string;
  cause?: unknown;
  /** What an administrator most likely has to do, when the provider can tell. */
  hint?: UpstreamHint;
}

/** A remote service failed (after any retries), or answered in a shape we cannot read. */
export class UpstreamError extends BouncerError {
  readonly service: string;
  readonly status?: number;
  /** The service's own request id (Graph: `request-id`), so an operator can quote it to the vendor. */
  readonly requestId?: string;
  readonly retryable: boolean;
  /** The vendor's error code and documentation link, when it gives them. */
  readonly vendorCode?: string;
  readonly moreInfo?: string;
  /** What an administrator most likely has to do, when the provider can tell (renderers word it). */
  readonly hint?: UpstreamHint;
  constructor(service: string, message: string, details: UpstreamDetails = {}) {
    super(details.code ?? 'UPSTREAM_FAILED', message, { cause: details.cause });
    this.name = 'UpstreamError';
    this.service = service;
    this.status = details.status;
    this.requestId = details.requestId;
    this.retryable = details.retryable ?? false;
    this.vendorCode = details.vendorCode;
    this.moreInfo = details.moreInfo;
    this.hint = details.hint;
  }
}

/** Whether `err` is an outage of a service we depend on (recognised by its code). */
export function isOutage(err: unknown): err is UpstreamError {
  return err instanceof BouncerError && OUTAGE_CODES.has(err.code) && 'service' in err;
}

/** Any thrown value as a coded error (the edge of the app wraps what libraries throw). */
export function asCodedError(err: unknown): BouncerError {
  if (err instanceof BouncerError) return err;
  return new BouncerError('INTERNAL', err instanceof Error ? err.message : 'non-error thrown', { cause: err });
}
