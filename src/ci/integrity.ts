/**
 * SRI comparison: two integrity strings match when they share an algorithm and agree on its
 * digest. Strings can list several hashes (`sha1-… sha512-…`); old lockfiles carry only sha1.
 * No shared algorithm means nothing can be proven: not a match.
 */
export function integrityMatches(expected: string, actual: string): boolean {
  const parse = (sri: string) => new Map(sri.trim().split(/\s+/).map((part) => {
    const dash = part.indexOf('-');
    return [part.slice(0, dash), part.slice(dash + 1).replace(/\?.*$/, '')] as const;
  }));
  const a = parse(expected);
  const b = parse(actual);
  let shared = false;
  for (const [alg, digest] of a) {
    if (!b.has(alg)) continue;
    shared = true;
    if (b.get(alg) !== digest) return false;
  }
  return shared;
}
