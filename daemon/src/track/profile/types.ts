/**
 * What a dataset profile says about one dataset file: enough to spot a broken or leaky
 * dataset version before a run trains on it.
 */

/** How the file's records are written. `binary` files get no profile beyond their size. */
export type DatasetFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'text' | 'binary';

/** A record that could not be read, by 1-based line number (where the record starts). */
export interface InvalidLine {
  line: number;
  message: string;
}

/** How often a field has a value. */
export interface FieldFill {
  /** Top-level key of JSON records, or CSV/TSV header column. */
  name: string;
  /** Rows where the field is present and not null, "" or empty. */
  filled: number;
  /** filled / rows (0 when there are no rows). */
  fillRate: number;
}

/**
 * Text length per row in UTF-16 code units: the string values of a JSON record (keys and
 * punctuation excluded), the fields of a CSV row, or a text line.
 */
export interface CharStats {
  min: number;
  max: number;
  mean: number;
  /** Median; exact up to 10 000 rows, from a uniform sample of rows above that. */
  p50?: number;
  total: number;
}

/** Rows with at least one match of each kind of personal data or secret. */
export interface PiiCounts {
  emails: number;
  phones: number;
  /** Provider API tokens: `sk-…`, `ghp_…`, `github_pat_…`, `AKIA…`, `hf_…`, `xox?-…`. */
  apiKeys: number;
}

/** A profile of one dataset file. */
export interface DatasetProfile {
  format: DatasetFormat;
  /** Bytes read (the file size unless it changed while being read). */
  bytes: number;
  /** Records read: non-blank, valid lines (JSONL, text), array elements (JSON), data rows (CSV/TSV). */
  rows: number;
  /** Blank lines (not counted in rows). */
  emptyRows: number;
  /** Rows whose exact text appeared earlier in the file (three equal rows count as two duplicates). */
  duplicateRows: number;
  /** True when there were too many distinct rows to remember them all, so duplicateRows is a lower bound. */
  duplicatesApproximate: boolean;
  /** The first invalid records (at most 100). */
  invalidLines: InvalidLine[];
  /** All invalid records, including those not listed. */
  invalidLineCount: number;
  /** In order of first appearance. */
  fields: FieldFill[];
  /** True when more distinct top-level keys appeared than are tracked (1000). */
  fieldsTruncated: boolean;
  chars: CharStats;
  /**
   * A rough token count: chars.total / 4, the usual rule of thumb for English text with
   * BPE tokenizers. It is off for code, non-Latin scripts and numbers; use it for scale only.
   */
  tokensEstimate: number;
  pii: PiiCounts;
  /** True when the file was not profiled because of its size (a JSON array over the whole-parse limit). */
  tooLarge: boolean;
  /** Things the user should know about how the file was read. */
  notes: string[];
}

/** Options for `profileDataset`. */
export interface ProfileOptions {
  /** Stops reading; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each chunk is read. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}
