/**
 * A string built by concatenation (`a + b`, a template literal) is kept by V8 as a tree of its
 * parts (a "cons string": a 32-byte node per `+`, and the parts themselves) until something
 * flattens it; such a key of 50 characters weighs ~160 bytes instead of ~75. A string kept for
 * as long as a connection, a queue or a binding lives is worth flattening once, off the hot
 * path. Used as a property key it is internalized: V8 keeps one flat copy (and shares it with
 * equal strings), which is the cheapest way to get a flat string that plain JavaScript has.
 */
export function flatString(s: string): string {
  const holder: Record<string, number> = { [s]: 0 };
  for (const key in holder) return key;
  return s;
}
