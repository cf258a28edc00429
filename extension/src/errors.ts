/**
 * What went wrong, in the user's words, with a next step: the daemon's stable error codes
 * (and the client's own) mapped to a message and the actions a notification offers. Pure:
 * show-error.ts turns this into a VS Code notification.
 */

/** Something the user can do about an error; each is one button. */
export type ErrorAction = 'openKeelYaml' | 'initProject' | 'showOutput' | 'restartDaemon' | 'checkHost' | 'addHost' | 'openSettings';

export const ActionTitles: Record<ErrorAction, string> = {
  openKeelYaml: 'Open keel.yaml',
  initProject: 'Initialize Project',
  showOutput: 'Show Output',
  restartDaemon: 'Restart Daemon',
  checkHost: 'Check Host',
  addHost: 'Add Host',
  openSettings: 'Open Settings',
};

export interface UserError {
  code: string | undefined;
  message: string;
  actions: ErrorAction[];
}

/** Raised by the extension itself when a command needs a keel.yaml and the workspace has none. */
export class NoProjectError extends Error {
  readonly code = 'E_NO_PROJECT';
  constructor(message = 'This workspace has no keel.yaml, so Keel has no project here.') {
    super(message);
    this.name = 'NoProjectError';
  }
}

/** An error whose message is already written for the user (by describeError), keeping its code and actions. */
export class ExplainedError extends Error {
  readonly code: string | undefined;
  readonly actions: ErrorAction[];
  constructor(explained: UserError) {
    super(explained.message);
    this.name = 'ExplainedError';
    this.code = explained.code;
    this.actions = explained.actions;
  }
}

/** The stable code carried by an error (RpcError, the client's start errors, our own), if any. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'unknown error';
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** Maps any error to a message with a next step. `doing` says what was attempted ("Launch failed"). */
export function describeError(err: unknown, doing?: string): UserError {
  const code = errorCodeOf(err);
  const raw = messageOf(err);
  const prefix = doing ? `${doing}: ` : '';
  if (err instanceof ExplainedError) return { code, message: prefix + raw, actions: err.actions };
  const say = (message: string, actions: ErrorAction[] = []): UserError => ({ code, message: prefix + message, actions });
  switch (code) {
    case 'E_HOST_UNREACHABLE':
      return say(`${sentence(raw)} Check that \`ssh\` to the host works from a terminal, then run Keel: Check Host.`, ['checkHost', 'showOutput']);
    case 'E_CONFIG_INVALID':
      return say(`${sentence(raw)} Open keel.yaml (or the config) and fix the marked line.`, ['openKeelYaml']);
    case 'E_PROTOCOL_MISMATCH':
      return say('The running Keel daemon is from a different version of Keel. Restart it so both match (runs on hosts keep going).', ['restartDaemon']);
    case 'E_NO_PROJECT':
      return say(`${sentence(raw)} Run Keel: Initialize Project to create one.`, ['initProject']);
    case 'E_NOT_FOUND':
      if (/keel init|registered project|no keel\.yaml/i.test(raw)) return say(`${sentence(raw)}`, ['initProject']);
      return say(sentence(raw));
    case 'E_SHUTTING_DOWN':
      return say('The Keel daemon is restarting. Try again in a moment.');
    case 'E_IO':
      return say(`${sentence(raw)} Check that the path exists and is readable.`, ['showOutput']);
    case 'E_INVALID_PARAMS':
      return say(`Keel refused the request: ${sentence(raw)}`, ['showOutput']);
    case 'E_DAEMON_START':
    case 'E_DAEMON_NOT_RUNNING':
      return say(`Keel could not start its daemon: ${sentence(raw)} If VS Code's runtime cannot run it, set keel.daemon.nodePath to a Node.js 22 or newer.`, ['showOutput', 'openSettings']);
    case 'E_HOME':
      return say(`${sentence(raw)} Or set keel.daemon.home.`, ['openSettings']);
    case 'E_DAEMON_NOT_ANSWERING':
      return say(`${sentence(raw)} If it stays stuck, run Keel: Restart Daemon.`, ['restartDaemon', 'showOutput']);
    case 'E_RESULT_TOO_LARGE':
      return say(`${sentence(raw)} Ask for less (fewer runs or metrics, a smaller page).`, ['showOutput']);
    case 'E_INTERNAL':
      if (/lost the daemon connection|not connected to the daemon/.test(raw)) {
        return say('The connection to the Keel daemon dropped; Keel reconnects by itself. Try again in a moment.', ['showOutput']);
      }
      if (/timed out after/.test(raw)) return say(`${sentence(raw)} The daemon may be busy; see its log.`, ['showOutput']);
      return say(`The Keel daemon failed: ${sentence(raw)} Its log has the details.`, ['showOutput']);
    default:
      return say(sentence(raw), code === undefined ? ['showOutput'] : []);
  }
}
