// Table cells have a fixed width in terminal columns, not in characters: a
// CJK character or an emoji takes two. Cells are cut with an ellipsis and
// padded so that rows line up and a highlighted row is one solid bar.

import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter();

/** The text cut to at most `width` columns, ending in "…" when cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return out + '…';
}

/** The text cut or padded with spaces to exactly `width` columns. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - stringWidth(cut)));
  return align === 'left' ? cut + pad : pad + cut;
}

export { stringWidth as widthOf };
