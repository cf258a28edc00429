/**
 * lm-evaluation-harness `config.model_args`: how an eval names the weights it ran on, and so
 * the link from an eval to a checkpoint. Written as a dict by newer harness versions and as
 * the CLI string `pretrained=/path,peft=/adapter,dtype=bfloat16` by older ones.
 */
import { parseTolerantJson } from './tolerant-json.ts';
import { isJsonObject } from './types.ts';

/** The model arguments of an eval, with the two that point at weights pulled out. */
export interface LmEvalModelArgs {
  /** Base weights: a hub id or a local path on the eval host (`pretrained=`). */
  pretrained?: string;
  /** Adapter weights: `peft=` (HF backend), or `lora_local_path=` (vLLM backend). */
  peft?: string;
  /** Every argument: values as written (strings for the CLI form, JSON types for a dict). */
  args: Record<string, unknown>;
  /** `model_args` exactly as the file has it; `''` when absent. */
  raw: string | Record<string, unknown>;
}

/** Reads `model_args` in any of its shapes: dict, `k=v,k=v` string, or a JSON object in a string. */
export function parseModelArgs(raw: unknown): LmEvalModelArgs {
  if (isJsonObject(raw)) return withWeights(raw, raw);
  if (typeof raw !== 'string') return { args: {}, raw: '' };
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = parseTolerantJson(trimmed);
      if (isJsonObject(parsed)) return withWeights(parsed, raw);
    } catch {
      // Not JSON after all: fall through to the key=value form.
    }
  }
  return withWeights(parseKeyValueList(trimmed), raw);
}

function withWeights(args: Record<string, unknown>, raw: string | Record<string, unknown>): LmEvalModelArgs {
  const out: LmEvalModelArgs = { args, raw };
  const pretrained = nonEmptyString(args.pretrained);
  const peft = nonEmptyString(args.peft) ?? nonEmptyString(args.lora_local_path);
  if (pretrained !== undefined) out.pretrained = pretrained;
  if (peft !== undefined) out.peft = peft;
  return out;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Splits `k=v,k=v` the way the harness does (on commas, each pair at its first `=`, so values
 * may contain `=`), with two repairs: a comma-separated piece without `=` that follows a
 * path-like value is taken as part of that path (`pretrained=/runs/a,b` keeps `/runs/a,b`), and
 * quotes around a value are removed. Any other piece without `=` is a flag with value `''`.
 */
export function parseKeyValueList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let lastKey: string | undefined;
  for (const piece of text.split(',')) {
    if (piece.trim() === '') continue;
    const eq = piece.indexOf('=');
    if (eq <= 0) {
      const previous = lastKey === undefined ? undefined : out[lastKey];
      if (lastKey !== undefined && previous !== undefined && /[\\/]/.test(previous)) {
        out[lastKey] = `${previous},${piece}`;
      } else {
        setOwn(out, piece.trim(), '');
        lastKey = undefined;
      }
      continue;
    }
    lastKey = piece.slice(0, eq).trim();
    setOwn(out, lastKey, unquote(piece.slice(eq + 1).trim()));
  }
  return out;
}

function unquote(value: string): string {
  const q = value[0];
  return value.length >= 2 && (q === '"' || q === "'") && value.endsWith(q) ? value.slice(1, -1) : value;
}

function setOwn(target: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}
