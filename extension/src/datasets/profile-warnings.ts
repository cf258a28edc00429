/**
 * The warnings worth a glance in a dataset version's profile: duplicate, empty and invalid
 * rows, likely personal data or secrets, files that could not be read. The profile is
 * `unknown` on the wire (the daemon keeps it as JSON), so it is read defensively here: a
 * field of the wrong type is skipped, never trusted.
 */
import { plural } from '../format.ts';

function rec(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

/** Warnings for one file's profile; `where` prefixes them for a folder's files. */
function fileWarnings(p: Record<string, unknown>, where: string): string[] {
  const out: string[] = [];
  const at = where ? `${where}: ` : '';
  if (typeof p.error === 'string') return [`${at}not profiled: ${p.error}`];
  const dup = num(p.duplicateRows);
  if (dup > 0) out.push(`${at}${plural(dup, 'duplicate row')}${p.duplicatesApproximate === true ? ' (at least)' : ''}`);
  const invalid = num(p.invalidLineCount);
  if (invalid > 0) {
    const first = Array.isArray(p.invalidLines) ? rec(p.invalidLines[0]) : undefined;
    const example = first && typeof first.line === 'number' ? ` (first at line ${first.line}${typeof first.message === 'string' ? `: ${first.message}` : ''})` : '';
    out.push(`${at}${plural(invalid, 'invalid line')}${example}`);
  }
  const empty = num(p.emptyRows);
  if (empty > 0) out.push(`${at}${plural(empty, 'empty row')}`);
  const pii = rec(p.pii);
  if (pii) {
    if (num(pii.emails) > 0) out.push(`${at}${plural(num(pii.emails), 'row')} with an email address`);
    if (num(pii.phones) > 0) out.push(`${at}${plural(num(pii.phones), 'row')} with a phone number`);
    if (num(pii.apiKeys) > 0) out.push(`${at}${plural(num(pii.apiKeys), 'row')} with an API key or token`);
  }
  if (p.tooLarge === true) out.push(`${at}too large to profile`);
  return out;
}

/**
 * Files left out of the version (FIFOs, dangling links, links that leave the folder, files
 * that changed or vanished): `{count, paths: [{path, reason}]}`, the first few named.
 */
function skippedWarnings(skipped: unknown): string[] {
  const s = rec(skipped);
  const count = num(s?.count);
  if (!s || count === 0) return [];
  const paths = Array.isArray(s.paths) ? s.paths.map(rec).filter((x) => x !== undefined) : [];
  const named = paths.slice(0, 3).map((x) => `${typeof x.path === 'string' ? x.path : '?'}${typeof x.reason === 'string' ? ` (${x.reason})` : ''}`);
  return [`${plural(count, 'file')} left out of this version${named.length ? `: ${named.join(', ')}${count > named.length ? ', …' : ''}` : ''}`];
}

/** Warnings for a dataset version's stored profile (a file's, or a folder's with one per file). */
export function profileWarnings(profile: unknown): string[] {
  const p = rec(profile);
  if (!p) return [];
  if (p.kind !== 'folder') return fileWarnings(p, '');
  const out: string[] = [];
  const files = rec(p.files) ?? {};
  for (const [path, fp] of Object.entries(files)) {
    const f = rec(fp);
    if (f) out.push(...fileWarnings(f, path));
  }
  if (Array.isArray(p.errors)) {
    for (const e of p.errors) {
      const r = rec(e);
      if (r && typeof r.path === 'string') out.push(`${r.path}: not profiled${typeof r.message === 'string' ? `: ${r.message}` : ''}`);
    }
  }
  if (p.truncated === true) out.push('only the first files were profiled');
  out.push(...skippedWarnings(p.skipped));
  return out;
}

/** "200 rows · 1.2k tokens" for a version's description, when the profile has them. */
export function profileFacts(profile: unknown): string | undefined {
  const p = rec(profile);
  if (!p) return undefined;
  const totals = p.kind === 'folder' ? rec(p.totals) : p;
  if (!totals || typeof totals.rows !== 'number') return undefined;
  const tokens = num(totals.tokensEstimate);
  const t = tokens >= 1e6 ? `${(tokens / 1e6).toFixed(1)}M` : tokens >= 1e3 ? `${(tokens / 1e3).toFixed(1)}k` : String(tokens);
  return `${plural(totals.rows, 'row')}${tokens ? ` · ~${t} tokens` : ''}`;
}
