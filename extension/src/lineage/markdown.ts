/** Small Markdown helpers for hover cards: escaping, code spans, command links, sizes. */

/** Escapes Markdown punctuation in plain text (labels come from file names and tools). */
export function mdText(text: string): string {
  return text.replace(/[\\`*_[\]()#|<>~]/g, (c) => `\\${c}`);
}

/** A code span that survives backticks inside the text. */
export function mdCode(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** `[title](command:id?args)` with JSON-encoded arguments, as VS Code's trusted Markdown expects. */
export function commandLink(title: string, command: string, args: unknown[]): string {
  return `[${mdText(title)}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}
