// behaviour §5: every refusal carries one stable code and a sentence a person
// understands. The same codes travel through the command line, the HTTP API
// and every face, so callers switch on `code`, never on the message.

export const REFUSAL_CODES = [
  'API_KEYS_DISABLED',
  'LICENCE_REQUIRED',
  'DEVELOPER_ROLE_REQUIRED',
  'ADMIN_ROLE_REQUIRED',
  'KEY_LIMIT_REACHED',
  'INVALID_EXPIRY',
  'EXPIRY_TOO_LONG',
  'INVALID_SETTING',
  'KEY_NOT_FOUND',
  'NOT_KEY_OWNER',
  'KEY_NOT_ACTIVE',
  'USER_NOT_FOUND',
  'INVALID_INPUT',
  'UNAUTHENTICATED',
  'STORE_CORRUPT',
] as const;

/** Codes that are not refusals of behaviour §5 but still need a stable name on the wire. */
// OUTCOME_UNKNOWN: a change was sent to the store and its answer lost, and whether it was made cannot be
// learnt — not UNAVAILABLE, whose word (behaviour §5) is that nothing was changed, so a caller tries again.
export const TRANSPORT_CODES = ['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'REQUEST_TIMEOUT', 'TOO_MANY_REQUESTS', 'UNAVAILABLE', 'OUTCOME_UNKNOWN', 'INTERNAL'] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];
export type ErrorCode = RefusalCode | (typeof TRANSPORT_CODES)[number];

/** The HTTP status each code maps to (behaviour §3). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  API_KEYS_DISABLED: 403,
  LICENCE_REQUIRED: 403,
  DEVELOPER_ROLE_REQUIRED: 403,
  ADMIN_ROLE_REQUIRED: 403,
  KEY_LIMIT_REACHED: 409,
  INVALID_EXPIRY: 400,
  EXPIRY_TOO_LONG: 400,
  INVALID_SETTING: 400,
  KEY_NOT_FOUND: 404,
  NOT_KEY_OWNER: 403,
  KEY_NOT_ACTIVE: 409,
  USER_NOT_FOUND: 404,
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401,
  STORE_CORRUPT: 500,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  // The store (the server's upstream) did not answer in time; unlike 503, no promise that nothing was done.
  OUTCOME_UNKNOWN: 504,
  INTERNAL: 500,
};

/** Short titles for the API's `errors[].title`. */
export const TITLES: Record<ErrorCode, string> = {
  API_KEYS_DISABLED: 'API keys are disabled',
  LICENCE_REQUIRED: 'Licence required',
  DEVELOPER_ROLE_REQUIRED: 'Developer role required',
  ADMIN_ROLE_REQUIRED: 'Tenant admin role required',
  KEY_LIMIT_REACHED: 'Active key limit reached',
  INVALID_EXPIRY: 'Invalid expiry',
  EXPIRY_TOO_LONG: 'Expiry too long',
  INVALID_SETTING: 'Invalid setting',
  KEY_NOT_FOUND: 'Key not found',
  NOT_KEY_OWNER: 'Not the key owner',
  KEY_NOT_ACTIVE: 'Key not active',
  USER_NOT_FOUND: 'User not found',
  INVALID_INPUT: 'Invalid input',
  UNAUTHENTICATED: 'Unauthenticated',
  STORE_CORRUPT: 'Store corrupt',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  REQUEST_TIMEOUT: 'Request timeout',
  TOO_MANY_REQUESTS: 'Too many requests',
  UNAVAILABLE: 'Server unavailable',
  OUTCOME_UNKNOWN: 'Outcome unknown',
  INTERNAL: 'Internal error',
};

/** A refusal: thrown by the engine, rendered by every face as `message (CODE)`. */
export class KeywardError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'KeywardError';
    this.code = code;
  }
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/**
 * UNAVAILABLE from a store expected back by itself — a database restarting,
 * not answering, or between a primary and its promoted standby — as opposed
 * to one to be put right (no store there, a password refused, a certificate
 * not accepted). `keyward serve` starts on such a store and answers 503
 * until it answers (open-service.ts openEngine's `away`).
 */
export class StoreAway extends KeywardError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/**
 * A store's refusal as the reason for something else (a server listening
 * anyway, uses left unwritten as a process ends): what happened, without the
 * advice it gives whoever asked for a change ("nothing was changed. Try
 * again shortly."), which would say the wrong thing there.
 */
export function reasonOnly(e: KeywardError): string {
  return e.message.replace(/;? nothing was changed\.( Try again shortly\.)?$/, '').replace(/\.$/, '');
}

export function refuse(code: ErrorCode, message: string): never {
  throw new KeywardError(code, message);
}

/** Whether a value is one of Keyward's codes (behaviour §5), say from a server's answer. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(HTTP_STATUS, code);
}

export function isKeywardError(e: unknown): e is KeywardError {
  return e instanceof KeywardError;
}
