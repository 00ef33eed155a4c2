/**
 * The 32-bit FNV-1a hash of a text's UTF-16 code units, as a signed 32-bit integer. Not
 * for security: a cheap, stable spread of short texts (ids, enumeration values).
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}
