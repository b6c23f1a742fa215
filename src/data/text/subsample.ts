// Subsampling of frequent words (Mikolov et al. 2013, as word2vec's code does it):
// a word with corpus frequency f is kept with probability (sqrt(f/t) + 1) * t/f,
// capped at 1, so 'the' and 'of' mostly drop out while rare words always stay.

/** Keep probability of each word id, from its count; `t` is the threshold (1e-4 style). */
export function keepProbabilities(counts: ArrayLike<number>, t = 1e-4): Float32Array {
  if (!(t > 0)) throw new RangeError(`keepProbabilities: the threshold t must be positive, got ${t}`);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const keep = new Float32Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const f = counts[i]! / total;
    keep[i] = f > 0 ? Math.min(1, (Math.sqrt(f / t) + 1) * (t / f)) : 1;
  }
  return keep;
}
