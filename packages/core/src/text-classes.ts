// What stored text may not hold, in the order a message names it. Every text
// a person types and others later see (descriptions, tenant and user names)
// passes this one rule (policy's checkStoredText), so no face has to guess
// how to show it; the same classes are what safeText shows escaped and what
// a refusal's echo of bad input escapes (duration.ts's printable). A module
// that imports nothing, so all three read it without an import cycle.
// C0, DEL and C1: they move the cursor, retitle a terminal, change colours.
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
// Bidirectional marks, embeddings, overrides and isolates: they reorder how
// the text reads, so "txt.exe" can show as "exe.txt".
export const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// Characters that show as nothing, so "ab\u200bcd" looks like "abcd": zero-width
// space, word joiner and invisible operators, soft hyphen, the Mongolian
// vowel separator, BOM, fillers, deprecated format characters, interlinear
// annotation, musical formatting, tags.
export const INVISIBLE = /[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060-\u2064\u206a-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/u;

/** Any of the three classes, to replace every occurrence. */
export const UNSAFE_TEXT = new RegExp([CONTROL, BIDI, INVISIBLE].map((re) => re.source).join('|'), 'gu');
