/**
 * The one error type of this package. Every failure a caller can cause carries a
 * code from the API error catalogue, so the gateway answers with that code and
 * its HTTP status unchanged. Anything else thrown from here is a bug or broken
 * infrastructure.
 */
import { type ApiErrorCode, apiErrorCatalogue } from "@tradestream/contracts";

export class AuthError extends Error {
  readonly code: ApiErrorCode;
  /** Seconds until a retry can succeed (lockout); null when waiting does not help. */
  readonly retryAfterS: number | null;

  constructor(code: ApiErrorCode, message?: string, retryAfterS: number | null = null) {
    super(message ?? apiErrorCatalogue[code].message);
    this.name = "AuthError";
    this.code = code;
    this.retryAfterS = retryAfterS;
  }

  get status(): number {
    return apiErrorCatalogue[this.code].status;
  }
}
