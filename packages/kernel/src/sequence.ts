import { InvariantError } from "./assert.ts";

/**
 * The items after `lastSeq` of a batch numbered by consecutive `seq`, checked to
 * continue the sequence without a gap (items at or before `lastSeq` are a
 * redelivery and are skipped). A gap is an invariant failure: a consumer that
 * missed events must not carry on as if it had not.
 */
export function unseenBySeq<T extends { readonly seq: number }>(items: readonly T[], lastSeq: number): readonly T[] {
  let first = 0;
  while (first < items.length && (items[first] as T).seq <= lastSeq) first += 1;
  if (first === items.length) return [];
  const fresh = first === 0 ? items : items.slice(first);
  for (let i = 0; i < fresh.length; i += 1) {
    const seq = (fresh[i] as T).seq;
    // The message is built only on failure: this runs for every event of every read model.
    if (seq !== lastSeq + 1 + i) throw new InvariantError(`event seq ${String(seq)} where ${String(lastSeq + 1 + i)} was due: the stream has a gap`);
  }
  return fresh;
}
