/**
 * The generic guard on response size: a result whose JSON is over MAX_FRAME_BYTES would make
 * the client drop the connection (its maxPayload is the same limit), so it is never sent.
 * The client gets E_RESULT_TOO_LARGE instead, naming the method and how to ask for less.
 */
import { ErrorCode, MAX_FRAME_BYTES, errorText, responseText, type Method, type RequestId } from '../protocol/index.ts';

/** How to ask each method for less, where there is a way. */
const NARROWING: Partial<Record<Method, string>> = {
  'runs/get': 'the run has too many metric keys to list at once; read one series with metrics/get (`keel metrics RUN KEY`)',
  'runs/list': 'pass a smaller `limit`, or one `project` or `statuses`',
  'runs/compare': 'compare fewer runs at once',
  'runs/logs': 'pass a smaller `maxBytes` and page by `offset` (`keel logs` does)',
  'metrics/get': 'pass a smaller `maxPoints`, or a `fromStep`/`toStep` range',
  'lineage/get': 'pass a smaller `depth`',
  'events/list': 'pass a smaller `limit`, or one `run`',
  'evals/list': 'filter by `task` or `run`',
  'datasets/list': 'list one `project` at a time',
  'datasets/show': 'the dataset has too many versions to show at once',
};

const MiB = 1024 * 1024;

/** UTF-8 size of `text`, counted only when it could matter. */
function overLimit(text: string, limit: number): number | null {
  if (text.length * 3 <= limit) return null;
  const bytes = Buffer.byteLength(text);
  return bytes > limit ? bytes : null;
}

/** The error text sent instead of a result that is too large. */
function tooLargeText(id: RequestId, method: string, bytes: number | null, limit: number): string {
  const size = bytes === null ? 'too large to serialise' : `${(bytes / MiB).toFixed(1)} MiB`;
  const hint = NARROWING[method as Method] ?? 'ask for fewer records';
  return errorText(id, {
    code: ErrorCode.ResultTooLarge,
    message: `the result of ${method} is ${size}, over the ${limit / MiB} MiB message limit, so it was not sent: ${hint}.`,
    data: { method, bytes, limit },
  });
}

/**
 * The response frame for `result`, or an E_RESULT_TOO_LARGE error frame when it would not fit
 * in one message. `tooLarge` is told the size (null: JSON.stringify itself gave up).
 */
export function boundedResponseText(
  id: RequestId, method: string, result: unknown, tooLarge: (bytes: number | null) => void, limit = MAX_FRAME_BYTES,
): string {
  let text: string;
  try {
    text = responseText(id, result);
  } catch (err) {
    // V8 refuses strings over ~512 MiB: that result was too large as well.
    if (!(err instanceof RangeError)) throw err;
    tooLarge(null);
    return tooLargeText(id, method, null, limit);
  }
  const bytes = overLimit(text, limit);
  if (bytes === null) return text;
  tooLarge(bytes);
  return tooLargeText(id, method, bytes, limit);
}

/** True when a notification's text is over the frame limit (it is then not sent). */
export function frameTooLarge(text: string, limit = MAX_FRAME_BYTES): boolean {
  return overLimit(text, limit) !== null;
}
