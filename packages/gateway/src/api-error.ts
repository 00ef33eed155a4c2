/**
 * The one error shape of the API: `{"error":{"code","message"}}` with the code's
 * HTTP status from the shared catalogue (engine rejections and edge errors alike).
 */
import { errorCatalogue, type ErrorCode } from "@tradestream/contracts";

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly retryAfterS: number | null = null,
  ) {
    super(message ?? errorCatalogue[code].message);
    this.status = errorCatalogue[code].status;
  }
}

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return { error: { code, message: message ?? errorCatalogue[code].message } };
}
