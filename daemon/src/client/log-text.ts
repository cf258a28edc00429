/**
 * Reading a run's log by byte offset (runs/logs) as text. The daemon decodes each byte range
 * on its own, so a range that ends inside a multi-byte UTF-8 character (a progress bar's
 * block, an accented letter) comes back ending in U+FFFD, and the rest of that character
 * would start the next range as garbage. Holding back that partial character, and reading it
 * again with the next range, prints every byte exactly once.
 */

/** The part of a runs/logs result this needs. */
export interface LogRange {
  text: string;
  /** Offset just past the bytes returned. */
  offset: number;
}

/**
 * What to print of `range` (read from byte `from`) and where to read next. `final`: no more
 * bytes will come (the log is complete, or the reader stops here), so nothing is held back.
 */
export function completeLogText(range: LogRange, from: number, final: boolean): { text: string; next: number } {
  const whole = { text: range.text, next: range.offset };
  if (final || !range.text.endsWith('\uFFFD')) return whole;
  const kept = range.text.slice(0, -1);
  const partialBytes = range.offset - from - Buffer.byteLength(kept);
  // A split character is 1–3 bytes of a 2–4 byte sequence; anything else was invalid bytes in the log itself.
  if (partialBytes < 1 || partialBytes > 3 || range.offset - partialBytes <= from) return whole;
  return { text: kept, next: range.offset - partialBytes };
}
