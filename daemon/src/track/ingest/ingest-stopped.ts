/**
 * A store write that fails during ingestion (disk full, I/O error, read-only or damaged
 * database) is not a problem of the file being read: every later write would fail too, and
 * carrying on would report a run as finished with points missing. Such an error stops the
 * whole ingest as an {@link IngestStoppedError} (E_IO) that names the cause and the way on:
 * fix the cause, then ingest again — cursors and upserts make that resume where it stopped.
 */
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, RpcError } from '../../protocol/errors.ts';

/** Why an ingest stopped; sent to clients as E_IO with these fields in `data`. */
export interface IngestStopDetails {
  runId: string;
  /** The output folder being ingested. */
  dir: string;
  /** SQLite's code (`SQLITE_FULL`, `SQLITE_IOERR_WRITE` …). */
  sqliteCode: string;
  /** The database file. */
  db: string;
}

/** An ingest stopped by a store write error; see the module comment. `code` is E_IO. */
export class IngestStoppedError extends RpcError {
  readonly details: IngestStopDetails;
  constructor(details: IngestStopDetails, cause: string) {
    super(ErrorCode.Io, stopMessage(details, cause), details);
    this.name = 'IngestStoppedError';
    this.details = details;
  }
}

/** SQLite result codes that mean the store cannot be written now (not a bug in a query, not bad data). */
const STORE_WRITE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|NOTADB|CANTOPEN|NOMEM|BUSY|LOCKED|PROTOCOL|PERM)(_|$)/;

/** SQLite's code when `err` is a store write failure, else undefined. */
export function storeWriteErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORE_WRITE_CODES.test(code) ? code : undefined;
}

/** `err` as an IngestStoppedError when it is (or already became) a store write failure, else undefined. */
export function asIngestStopped(err: unknown, where: { runId: string; dir: string; db: string }): IngestStoppedError | undefined {
  if (err instanceof IngestStoppedError) return err;
  const sqliteCode = storeWriteErrorCode(err);
  if (sqliteCode === undefined) return undefined;
  return new IngestStoppedError({ ...where, sqliteCode }, err instanceof Error ? err.message : String(err));
}

/** The folder that really holds the database (keel.db may be a link to another disk). */
function dbFolder(db: string): string {
  try {
    return dirname(realpathSync(db));
  } catch {
    return dirname(db);
  }
}

function stopMessage(d: IngestStopDetails, cause: string): string {
  const resume = `then run \`keel import ${d.dir}\` again (a watched or launched run is read again on its own): ingestion resumes where it stopped`;
  const code = d.sqliteCode;
  let fix: string;
  if (code.startsWith('SQLITE_FULL')) fix = `Free space on the disk holding ${dbFolder(d.db)}`;
  else if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) fix = `Make ${d.db} and its folder writable by the daemon`;
  else if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) fix = `The database is damaged: stop the daemon (\`keel daemon stop\`), check ${d.db} with \`sqlite3 ${d.db} 'PRAGMA integrity_check'\` and restore a backup if it fails`;
  else if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) fix = `Another process holds ${d.db}; close it`;
  else fix = `Check the disk holding ${dbFolder(d.db)} (the system log may say why)`;
  return `recording run ${d.runId} from ${d.dir} stopped: the database could not be written (${cause}); the run was not marked finished. ${fix}, ${resume}.`;
}
