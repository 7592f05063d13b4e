// "Did you mean …?" for a mistyped command or option, as git and gh answer:
// the word people reach for from other tools (`list`, `delete`), a unique
// prefix (`--desc`), or the nearest name within a couple of typos.

/** Words from other tools for a verb Keyward spells differently. */
const SYNONYMS: Record<string, string> = {
  list: 'ls',
  show: 'get',
  view: 'get',
  new: 'create',
  generate: 'create',
  delete: 'rm',
  remove: 'rm',
  del: 'rm',
  mv: 'rename',
  'set-settings': 'set',
};

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The one candidate the user most likely meant, or undefined when none is close. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const synonym = SYNONYMS[w];
  if (synonym && candidates.includes(synonym)) return synonym;
  if (w.length >= 2) {
    const prefixed = candidates.filter((c) => c.startsWith(w));
    if (prefixed.length === 1) return prefixed[0];
    // `--expires` for `--expiry`: a shared stem of at least five letters.
    const stem = candidates.filter((c) => w.length >= 5 && c.length >= 5 && c.slice(0, 5) === w.slice(0, 5));
    if (stem.length === 1) return stem[0];
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // "inactive" is close to "active" in letters and its opposite in meaning.
    if (/^(in|un|non|not)-?/.test(w) && w.endsWith(c)) continue;
    const d = distance(w, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.min(w.length, best.length) / 3)) ? best : undefined;
}
