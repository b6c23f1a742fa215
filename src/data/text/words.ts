// Splitting text into words, the first step of both tokenizers: lower-cased runs
// of letters and digits, apostrophes inside a word kept ("don't"), punctuation dropped.

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/** The lower-cased words of `text`, in order. */
export function splitWords(text: string): string[] {
  return text.toLowerCase().replace(/’/g, "'").match(WORD) ?? [];
}
