/** Shared types of the TensorBoard event-file reader. */

/** One scalar read from an event file. */
export interface ScalarPoint {
  /** Summary tag as written, e.g. `train/loss` or `bleu/split:dev`. */
  tag: string;
  /** Global step (int64 on disk; exact up to 2^53). Absent on disk means 0. */
  step: number;
  /** The value; NaN and ±Infinity are kept as JS NaN / ±Infinity. */
  value: number;
  /** Seconds since the Unix epoch (`Event.wall_time`); 0 when the event has none. */
  wallTime: number;
  /** Precision of the value as written: 32 (`simple_value`, float32 tensors), 16 (half, bfloat16), 64 (float64, integers). */
  bits?: number;
}

/**
 * Where to resume reading a file, plus what must be remembered between reads. Plain JSON
 * (store it as is); start a new file with `newTfeventsCursor()`.
 */
export interface TfeventsCursor {
  /** Byte offset of the next record to read (always a record boundary). */
  offset: number;
  /**
   * Plugin name per tag, from `Summary.Value.metadata`, which writers often put only on a
   * tag's first value. A tag whose plugin is `scalars` (or unknown) can carry tensor scalars.
   */
  pluginByTag: Record<string, string>;
  /**
   * Set when reading stopped at `offset` because a record's length header failed its CRC:
   * the reason, already reported once. Later reads re-check that header and resume if it has
   * become valid (a writer still filling a pre-zeroed block), without reporting it again.
   */
  halted?: string;
}

/** A record that could not be used, with the file byte offset where it starts. */
export interface CorruptRecord {
  offset: number;
  reason: string;
}
