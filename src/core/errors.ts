/** Stable error codes. Messages are for logs; users see text chosen by the renderers. */
export type ErrorCode =
  | 'UPSTREAM_FAILED'
  | 'UPSTREAM_INVALID_RESPONSE'
  | 'NOTIFICATION_INVALID'
  | 'NOTIFICATION_UNAUTHORIZED'
  | 'INVALID_JOIN_URL'
  | 'STORE_FAILED';

/** An error with a stable code that keeps its cause. Thrown for bugs and outages only. */
export class BouncerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BouncerError';
    this.code = code;
  }
}

/** A remote service answered with a failure (after any retries). */
export class UpstreamError extends BouncerError {
  readonly service: string;
  readonly status?: number;
  /** The service's own request id (Graph: `request-id`), so an operator can quote it to the vendor. */
  readonly requestId?: string;
  readonly retryable: boolean;
  /** The vendor's error code and documentation link, when it gives them. */
  readonly vendorCode?: string;
  readonly moreInfo?: string;
  constructor(
    service: string,
    message: string,
    details: {
      status?: number;
      requestId?: string;
      retryable?: boolean;
      vendorCode?: string;
      moreInfo?: string;
      cause?: unknown;
    } = {},
  ) {
    super('UPSTREAM_FAILED', message, { cause: details.cause });
    this.name = 'UpstreamError';
    this.service = service;
    this.status = details.status;
    this.requestId = details.requestId;
    this.retryable = details.retryable ?? false;
    this.vendorCode = details.vendorCode;
    this.moreInfo = details.moreInfo;
  }
}
