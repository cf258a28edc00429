/**
 * The remote URL a code version records: `origin` when there is one, and never a credential
 * (`https://user:token@host/x.git` is recorded as `https://host/x.git`).
 */

/** Schemes whose user name is a login, not a secret: keep the user, drop any password. */
const LOGIN_SCHEMES = new Set(['ssh', 'git+ssh', 'ssh+git']);

/**
 * Removes credentials from a remote URL. For http(s) and other URL schemes the whole user
 * part goes (a token is often written as the user name alone: `https://ghp_x@github.com/…`);
 * for ssh:// only a password goes. scp-like `git@host:path` and local paths are unchanged.
 */
export function stripCredentials(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(url.trim());
  if (!match) return url.trim();
  const [, scheme = '', authority = '', rest = ''] = match;
  const at = authority.lastIndexOf('@');
  if (at < 0) return `${scheme}://${authority}${rest}`;
  const userInfo = authority.slice(0, at);
  const host = authority.slice(at + 1);
  if (!LOGIN_SCHEMES.has(scheme.toLowerCase())) return `${scheme}://${host}${rest}`;
  const user = userInfo.split(':')[0] ?? '';
  return `${scheme}://${user === '' ? '' : `${user}@`}${host}${rest}`;
}

/** `origin` if it is among `remotes`, else the first (git lists them by name). */
export function pickRemote(remotes: readonly string[]): string | undefined {
  const names = remotes.map((r) => r.trim()).filter((r) => r !== '');
  return names.includes('origin') ? 'origin' : names[0];
}
