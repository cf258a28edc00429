/** What every CLI command receives, and the error for bad usage (exit code 2). */
export interface CommandContext {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  cwd: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}
