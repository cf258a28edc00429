/** keel.yaml diagnostics from the daemon (1-based line/column) placed in a document. Pure. */
import type { ProjectDiagnostic } from '../../../daemon/src/protocol/index.ts';

/** Where a diagnostic goes in the document: 0-based line and column range. */
export interface DiagnosticSpot {
  line: number;
  start: number;
  end: number;
  message: string;
  severity: 'error' | 'warning';
  /** The key path (`train.command`), shown as the diagnostic's code. */
  key: string;
}

/**
 * Places the daemon's 1-based line/column diagnostics in a document with these line
 * lengths: from the column to the end of the line (the whole line when the column is past
 * it), clamped to the document so a stale diagnostic never points outside it.
 */
export function placeDiagnostics(diagnostics: readonly ProjectDiagnostic[], lineLengths: readonly number[]): DiagnosticSpot[] {
  const lastLine = Math.max(0, lineLengths.length - 1);
  return diagnostics.map((d) => {
    const line = Math.min(Math.max(0, d.line - 1), lastLine);
    const length = lineLengths[line] ?? 0;
    const column = Math.max(0, d.column - 1);
    const start = column < length ? column : 0;
    const end = Math.max(length, start + 1);
    return { line, start, end, message: d.message, severity: d.severity, key: d.path };
  });
}
