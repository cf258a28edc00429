/**
 * Decodes the scalars in one serialized `Event` (tensorflow/core/util/event.proto) in place.
 * Only the fields scalars need are read; everything else is skipped by wire type.
 */
import { ProtoReader, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT } from './proto.ts';
import { dtypeBits, tensorScalar } from './tensor.ts';
import type { ScalarPoint } from './types.ts';

/** Field keys ((field << 3) | wire type) compared as single numbers in the hot loops. */
const EVENT_WALL_TIME = (1 << 3) | WIRE_FIXED64;
const EVENT_STEP = (2 << 3) | WIRE_VARINT;
const EVENT_SUMMARY = (5 << 3) | WIRE_BYTES;
const SUMMARY_VALUE = (1 << 3) | WIRE_BYTES;
const VALUE_TAG = (1 << 3) | WIRE_BYTES;
const VALUE_SIMPLE = (2 << 3) | WIRE_FIXED32;
const VALUE_TENSOR = (8 << 3) | WIRE_BYTES;
const VALUE_METADATA = (9 << 3) | WIRE_BYTES;
const METADATA_PLUGIN_DATA = (1 << 3) | WIRE_BYTES;
const PLUGIN_DATA_NAME = (1 << 3) | WIRE_BYTES;

/** The plugin TensorBoard files scalars under. */
export const SCALARS_PLUGIN = 'scalars';

/**
 * Appends the scalars of the `Event` in `r.buf[start, end)` to `out`, updating `pluginByTag`
 * (a null-prototype object) from any value metadata. Throws `ProtoError` on malformed bytes.
 */
export function decodeEvent(
  r: ProtoReader,
  start: number,
  end: number,
  pluginByTag: Record<string, string>,
  out: ScalarPoint[],
): void {
  r.reset(start, end);
  let wallTime = 0;
  let step = 0;
  let summaryStart = -1;
  let summaryEnd = -1;
  // Fields may come in any order: find the summary first, decode it once wall_time and step
  // are known.
  while (r.pos < end) {
    const key = r.uint32();
    if (key === EVENT_WALL_TIME) wallTime = r.double();
    else if (key === EVENT_STEP) step = r.int64();
    else if (key === EVENT_SUMMARY) {
      summaryEnd = r.bytesEnd();
      summaryStart = r.pos;
      r.pos = summaryEnd;
    } else r.skip(key & 7);
  }
  if (summaryStart < 0) return;
  r.pos = summaryStart;
  while (r.pos < summaryEnd) {
    const key = r.uint32();
    if (key === SUMMARY_VALUE) {
      const valueEnd = r.bytesEnd();
      decodeValue(r, valueEnd, wallTime, step, pluginByTag, out);
      r.pos = valueEnd;
    } else r.skip(key & 7);
  }
}

/** One `Summary.Value` from `r.pos` to `end`: pushes a point if it holds a scalar. */
function decodeValue(
  r: ProtoReader,
  end: number,
  wallTime: number,
  step: number,
  pluginByTag: Record<string, string>,
  out: ScalarPoint[],
): void {
  let tagStart = -1;
  let tagEnd = -1;
  let simple = 0;
  let hasSimple = false;
  let tensorStart = -1;
  let tensorEnd = -1;
  let plugin = '';
  while (r.pos < end) {
    const key = r.uint32();
    if (key === VALUE_TAG) {
      tagEnd = r.bytesEnd();
      tagStart = r.pos;
      r.pos = tagEnd;
    } else if (key === VALUE_SIMPLE) {
      simple = r.float();
      hasSimple = true;
    } else if (key === VALUE_TENSOR) {
      tensorEnd = r.bytesEnd();
      tensorStart = r.pos;
      r.pos = tensorEnd;
    } else if (key === VALUE_METADATA) {
      const metadataEnd = r.bytesEnd();
      plugin = pluginName(r, metadataEnd);
      r.pos = metadataEnd;
    } else r.skip(key & 7);
  }
  const tag = tagStart < 0 ? '' : internString(r.buf, tagStart, tagEnd);
  if (plugin !== '' && pluginByTag[tag] !== plugin) pluginByTag[tag] = plugin;
  if (hasSimple) {
    out.push({ tag, step, value: simple, wallTime, bits: 32 });
    return;
  }
  if (tensorStart < 0) return;
  const known = plugin !== '' ? plugin : pluginByTag[tag];
  // `scalars` is what TF2 and torch new_style write. A tensor whose plugin was never seen is
  // also tried (e.g. a cursor whose plugin memory was lost): only one-element numeric
  // tensors qualify, so images, histograms and text are still skipped.
  if (known !== undefined && known !== SCALARS_PLUGIN) return;
  const value = tensorScalar(r, tensorStart, tensorEnd, dtypeSeen);
  if (value !== undefined) out.push({ tag, step, value, wallTime, bits: dtypeBits(dtypeSeen.dtype) });
}

/** Receives each tensor's dtype (one object, reused: decoding is synchronous). */
const dtypeSeen = { dtype: 0 };

/** `SummaryMetadata.plugin_data.plugin_name` from `r.pos` to `end`, or '' if absent. */
function pluginName(r: ProtoReader, end: number): string {
  let name = '';
  while (r.pos < end) {
    const key = r.uint32();
    if (key !== METADATA_PLUGIN_DATA) {
      r.skip(key & 7);
      continue;
    }
    const dataEnd = r.bytesEnd();
    while (r.pos < dataEnd) {
      const k = r.uint32();
      if (k === PLUGIN_DATA_NAME) {
        const nameEnd = r.bytesEnd();
        name = internString(r.buf, r.pos, nameEnd);
        r.pos = nameEnd;
      } else r.skip(k & 7);
    }
  }
  return name;
}

/**
 * Interned tags and plugin names: a run has few distinct tags, each read up to millions of
 * times. A direct-mapped table keyed on (length, first, middle, last byte) finds the one
 * candidate in O(1); a single compare confirms it. Collisions just replace the slot.
 */
const SLOTS = 1024;
const slotBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const slotText: string[] = new Array<string>(SLOTS).fill('');
const utf8 = new TextDecoder('utf-8');

/** UTF-8 `buf[start, end)` as a string, reusing the string for bytes seen before. */
export function internString(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  const slot = (len * 31 + buf[start]! * 7 + buf[start + (len >> 1)]! * 131 + buf[end - 1]! * 17) & (SLOTS - 1);
  const known = slotBytes[slot];
  if (known !== undefined && sameBytes(known, buf, start, end)) return slotText[slot]!;
  const text = utf8.decode(buf.subarray(start, end));
  slotBytes[slot] = buf.slice(start, end);
  slotText[slot] = text;
  return text;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== buf[start + i]) return false;
  return true;
}
