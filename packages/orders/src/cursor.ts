/**
 * Page cursors: opaque base64url text naming the last item of the previous
 * page ("o:<orderId>" for orders, "f:<fill sequence>" for fills). Items are
 * listed newest first by an id that only grows, so "everything older than the
 * cursor" walks each item exactly once even while new items arrive.
 */
export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
  /** The API code the gateway answers with. */
  readonly code = "validation_failed";
}

export type CursorKind = "o" | "f";

/** Characters a cursor may have: a safe integer and its prefix fit in 24. */
const cursorCharsMax = 24;

export function encodeCursor(kind: CursorKind, id: number): string {
  return btoa(`${kind}:${String(id)}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The id a cursor names; throws InvalidCursorError for anything this module did not produce for `kind`. */
export function decodeCursor(kind: CursorKind, cursor: string): number {
  if (cursor.length === 0 || cursor.length > cursorCharsMax || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError("malformed cursor");
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw new InvalidCursorError("malformed cursor");
  }
  const match = /^([of]):([1-9][0-9]{0,15})$/.exec(text);
  const id = Number(match?.[2]);
  if (match?.[1] !== kind || !Number.isSafeInteger(id)) throw new InvalidCursorError("cursor of another listing or out of range");
  // One spelling per cursor: a hand-edited variant that happens to decode is refused too.
  if (encodeCursor(kind, id) !== cursor) throw new InvalidCursorError("malformed cursor");
  return id;
}
