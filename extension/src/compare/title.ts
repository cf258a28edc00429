/** The compare panel's tab title. Pure. */

/** "Compare: a vs b", shortened past three runs; "Run: a" for one run. */
export function compareTitle(names: readonly string[]): string {
  if (names.length === 0) return 'Compare';
  if (names.length === 1) return `Run: ${names[0]}`;
  const shown = names.slice(0, 3).join(' vs ');
  return names.length > 3 ? `Compare: ${shown} +${names.length - 3}` : `Compare: ${shown}`;
}
