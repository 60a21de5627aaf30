/** RFC 9457 problem details: the one error shape of every JSON route. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

/** Problems every route may answer, beyond a route family's own (the moderation API has its list). */
export const HTTP_PROBLEMS = {
  'invalid-body': { status: 400, title: 'The request body is invalid' },
  unauthorized: { status: 401, title: 'The request is not authenticated' },
  forbidden: { status: 403, title: 'The request is not allowed' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The body has an unsupported media type' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'A service Bouncer depends on is unavailable; try again later' },
} as const;

export type HttpProblemType = keyof typeof HTTP_PROBLEMS;

/** A generic problem answer. Never put an internal error message in `extra`. */
export function httpProblem(type: HttpProblemType, extra: Omit<Partial<ProblemBody>, 'type' | 'title'> = {}): { status: number; body: ProblemBody } {
  const { status, title } = HTTP_PROBLEMS[type];
  const body: ProblemBody = { type: `urn:bouncer:problem:${type}`, title, status, ...extra };
  return { status: body.status, body };
}

/** The generic problem for a status restify raised itself (bad JSON, too large, no route…). */
export function problemForStatus(status: number): { status: number; body: ProblemBody } {
  const type: HttpProblemType =
    status === 400 ? 'invalid-body'
    : status === 401 ? 'unauthorized'
    : status === 403 ? 'forbidden'
    : status === 404 ? 'not-found'
    : status === 405 ? 'method-not-allowed'
    : status === 413 ? 'payload-too-large'
    : status === 415 ? 'unsupported-media-type'
    : status === 503 ? 'unavailable'
    : 'internal';
  const { body } = httpProblem(type);
  return { status, body: { ...body, status } };
}
