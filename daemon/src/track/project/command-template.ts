/**
 * Placeholders in keel.yaml `train`/`eval` commands: `{config}`, `{output_dir}`, `{run}` and
 * `{checkpoint}`, which Keel fills in per run. `${VAR}` is the shell's and is left alone, as is
 * anything in braces that is not a bare name (`awk '{print $1}'`, `{a,b}`).
 */

/** The placeholders a command may use. */
export const COMMAND_PLACEHOLDERS = ['config', 'output_dir', 'run', 'checkpoint'] as const;

/** A placeholder Keel fills in. */
export type CommandPlaceholder = (typeof COMMAND_PLACEHOLDERS)[number];

/** One `{name}` in a command: its name and 0-based offset of the `{`. */
export interface PlaceholderUse {
  name: string;
  offset: number;
}

const PLACEHOLDER = /(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Every `{name}` in `command`, in order, known or not. */
export function findPlaceholders(command: string): PlaceholderUse[] {
  return [...command.matchAll(PLACEHOLDER)].map((match) => ({ name: match[1] ?? '', offset: match.index }));
}

/** True for a placeholder Keel knows how to fill. */
export function isCommandPlaceholder(name: string): name is CommandPlaceholder {
  return (COMMAND_PLACEHOLDERS as readonly string[]).includes(name);
}
