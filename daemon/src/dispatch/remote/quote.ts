/**
 * Quoting for everything that reaches a remote shell. `ssh host -- a b c` does not pass an
 * argument vector: it joins the words with spaces and the remote login shell parses the
 * result, so every word must be quoted, and quoted one way only — here.
 */

/** A value that no shell word can carry (a NUL byte, or broken UTF-16). */
export class ShellQuoteError extends Error {
  override name = 'ShellQuoteError';
}

/**
 * One POSIX shell word that the shell reads back as exactly `arg`: `'…'`, with each `'`
 * inside written as `'\''`. Nothing is special inside single quotes — not `$`, backticks,
 * `\`, `!` (history expansion is off in non-interactive shells), newlines or globs.
 * Throws ShellQuoteError for a NUL byte (C strings end there, so no argument can hold one)
 * and for lone UTF-16 surrogates (they would reach the host as U+FFFD, not as given).
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new ShellQuoteError(`shell argument contains a NUL byte: ${JSON.stringify(arg)}`);
  if (!arg.isWellFormed()) throw new ShellQuoteError(`shell argument is not valid Unicode: ${JSON.stringify(arg)}`);
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** `argv` as one line for a POSIX shell: every element quoted by shellQuote, joined by spaces. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * `argv` as one command that any login shell runs the same — bash, dash, zsh, and also fish
 * and tcsh, whose single quotes differ from POSIX (fish reads `\\` inside them; csh rejects
 * newlines and expands `!`). The POSIX command travels base64-encoded, which is plain
 * letters, digits, `+`, `/` and `=`, and bash decodes and runs it. Use it for
 * `ssh host -- <result>` when the remote login shell is not known to be POSIX.
 */
export function anyShellCommand(argv: readonly string[]): string {
  const encoded = Buffer.from(shellCommand(argv), 'utf8').toString('base64');
  return `bash -c 'eval "$(printf %s ${encoded} | base64 -d)"'`;
}
