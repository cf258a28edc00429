/** Why keel.db could not be opened: a stable code and a message that names the file and a next step. */

/** The codes a failed open carries (the daemon prints the message and exits 4). */
export type StoreOpenErrorCode = 'E_STORE_CORRUPT' | 'E_STORE_TOO_NEW' | 'E_STORE_IO' | 'E_STORE_MIGRATION';

/** Raised when keel.db cannot be used as it is; the file is left untouched. */
export class StoreOpenError extends Error {
  readonly code: StoreOpenErrorCode;
  constructor(code: StoreOpenErrorCode, message: string) {
    super(message);
    this.name = 'StoreOpenError';
    this.code = code;
  }
}
