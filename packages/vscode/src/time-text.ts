// Absolute times as the extension prints them; how soon or how long ago is
// core's relativeTime, the same words in every face.

/** An absolute time, to the minute, in UTC so every reader sees the same text. */
export function timeText(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ') + ' UTC';
}
