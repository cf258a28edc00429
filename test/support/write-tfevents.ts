/**
 * Test-only writer of TensorBoard event files, byte-compatible with what TensorFlow, torch and
 * tensorboardX write, so tests can build the cases no real fixture covers (TF2
 * `tensor_content`, torch `new_style`, truncated tails, bad CRCs, non-scalar tensors).
 */
import { maskedCrc32c } from '../../daemon/src/track/tfevents/crc32c.ts';

/** Raw tensor fields, encoded as given (for building non-scalar tensors too). */
export interface TensorSpec {
  /** TensorFlow DataType number (1 float32, 2 float64, 7 string, 19 half, ...). */
  dtype: number;
  /** Dimension sizes; omitted or [] means a scalar (rank 0). */
  shape?: number[];
  content?: Uint8Array;
  floatVal?: number[];
  doubleVal?: number[];
  /** Raw binary16 / bfloat16 bit patterns. */
  halfVal?: number[];
  intVal?: number[];
  int64Val?: number[];
  stringVal?: string[];
  /** Repeated numeric fields packed (proto3 default) or one key per element. Default true. */
  packed?: boolean;
}

/** One `Summary.Value`. */
export interface ValueSpec {
  tag: string;
  simpleValue?: number;
  tensor?: TensorSpec;
  /** Writes `metadata.plugin_data.plugin_name`. */
  pluginName?: string;
}

/** One `Event`; `step` 0 is omitted as proto3 writers do. */
export interface EventSpec {
  wallTime?: number;
  step?: number;
  fileVersion?: string;
  values?: ValueSpec[];
}

/** Growable protobuf byte writer. */
class ProtoWriter {
  private bytes: number[] = [];

  varint(v: number | bigint): void {
    // Negative int64s are two's complement over 64 bits (10 bytes on the wire).
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }
  key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }
  double(field: number, v: number): void {
    this.key(field, 1);
    this.raw(le(8, (dv) => dv.setFloat64(0, v, true)));
  }
  float(field: number, v: number): void {
    this.key(field, 5);
    this.raw(le(4, (dv) => dv.setFloat32(0, v, true)));
  }
  bytesField(field: number, data: Uint8Array): void {
    this.key(field, 2);
    this.varint(data.length);
    this.raw(data);
  }
  string(field: number, s: string): void {
    this.bytesField(field, new TextEncoder().encode(s));
  }
  raw(data: Uint8Array): void {
    for (const b of data) this.bytes.push(b);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function le(n: number, fill: (dv: DataView) => void): Uint8Array {
  const out = new Uint8Array(n);
  fill(new DataView(out.buffer));
  return out;
}

/** Serializes an `Event` message. */
export function encodeEvent(e: EventSpec): Uint8Array {
  const w = new ProtoWriter();
  if (e.wallTime !== undefined) w.double(1, e.wallTime);
  if (e.step !== undefined && e.step !== 0) {
    w.key(2, 0);
    w.varint(e.step);
  }
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.values !== undefined) {
    const summary = new ProtoWriter();
    for (const v of e.values) summary.bytesField(1, encodeValue(v));
    w.bytesField(5, summary.finish());
  }
  return w.finish();
}

function encodeValue(v: ValueSpec): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, v.tag);
  if (v.simpleValue !== undefined) w.float(2, v.simpleValue);
  if (v.tensor !== undefined) w.bytesField(8, encodeTensor(v.tensor));
  if (v.pluginName !== undefined) {
    const pluginData = new ProtoWriter();
    pluginData.string(1, v.pluginName);
    const metadata = new ProtoWriter();
    metadata.bytesField(1, pluginData.finish());
    w.bytesField(9, metadata.finish());
  }
  return w.finish();
}

function encodeTensor(t: TensorSpec): Uint8Array {
  const w = new ProtoWriter();
  w.key(1, 0);
  w.varint(t.dtype);
  const shape = new ProtoWriter();
  for (const size of t.shape ?? []) {
    const dim = new ProtoWriter();
    dim.key(1, 0);
    dim.varint(size);
    shape.bytesField(2, dim.finish());
  }
  w.bytesField(2, shape.finish());
  if (t.content !== undefined) w.bytesField(4, t.content);
  const packed = t.packed ?? true;
  repeated(w, 5, 5, t.floatVal, packed, (x, v) => x.raw(le(4, (dv) => dv.setFloat32(0, v, true))));
  repeated(w, 6, 1, t.doubleVal, packed, (x, v) => x.raw(le(8, (dv) => dv.setFloat64(0, v, true))));
  repeated(w, 7, 0, t.intVal, packed, (x, v) => x.varint(v));
  for (const s of t.stringVal ?? []) w.string(8, s);
  repeated(w, 10, 0, t.int64Val, packed, (x, v) => x.varint(v));
  repeated(w, 13, 0, t.halfVal, packed, (x, v) => x.varint(v));
  return w.finish();
}

function repeated(
  w: ProtoWriter,
  field: number,
  wireType: number,
  values: number[] | undefined,
  packed: boolean,
  put: (x: ProtoWriter, v: number) => void,
): void {
  if (values === undefined || values.length === 0) return;
  if (packed) {
    const inner = new ProtoWriter();
    for (const v of values) put(inner, v);
    w.bytesField(field, inner.finish());
    return;
  }
  for (const v of values) {
    w.key(field, wireType);
    put(w, v);
  }
}

/** Frames `data` as one TFRecord: u64 length, masked CRC of it, data, masked CRC of data. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(out, 0, 8), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Concatenates records into file contents. */
export function tfeventsFile(records: readonly Uint8Array[]): Buffer {
  return Buffer.concat(records);
}

/** The first record every writer emits: `file_version: "brain.Event:2"`. */
export function fileVersionRecord(wallTime: number): Uint8Array {
  return frameRecord(encodeEvent({ wallTime, fileVersion: 'brain.Event:2' }));
}

/** torch / tensorboardX `add_scalar` default: `simple_value`. */
export function simpleValueRecord(tag: string, step: number, value: number, wallTime: number, pluginName?: string): Uint8Array {
  const v: ValueSpec = { tag, simpleValue: value };
  if (pluginName !== undefined) v.pluginName = pluginName;
  return frameRecord(encodeEvent({ wallTime, step, values: [v] }));
}

/**
 * torch `add_scalar(..., new_style=True)` (torchtune's logger): a rank-0 DT_FLOAT tensor in
 * `float_val` (or `double_val` when `double`), `scalars` metadata unless `metadata: false`.
 */
export function newStyleScalarRecord(
  tag: string, step: number, value: number, wallTime: number,
  opts: { metadata?: boolean; packed?: boolean; double?: boolean } = {},
): Uint8Array {
  const tensor: TensorSpec = opts.double
    ? { dtype: 2, doubleVal: [value], packed: opts.packed ?? true }
    : { dtype: 1, floatVal: [value], packed: opts.packed ?? true };
  const v: ValueSpec = { tag, tensor };
  if (opts.metadata ?? true) v.pluginName = 'scalars';
  return frameRecord(encodeEvent({ wallTime, step, values: [v] }));
}

/** Element types `tensorContentRecord` can write. */
export type ContentDtype = 'float32' | 'float64' | 'half' | 'bfloat16' | 'int32' | 'int64';

const CONTENT_DTYPES: Record<ContentDtype, { dtype: number; width: number; put: (dv: DataView, v: number) => void }> = {
  float32: { dtype: 1, width: 4, put: (dv, v) => dv.setFloat32(0, v, true) },
  float64: { dtype: 2, width: 8, put: (dv, v) => dv.setFloat64(0, v, true) },
  half: { dtype: 19, width: 2, put: (dv, v) => dv.setUint16(0, numberToHalfBits(v), true) },
  bfloat16: { dtype: 14, width: 2, put: (dv, v) => dv.setUint16(0, numberToBfloat16Bits(v), true) },
  int32: { dtype: 3, width: 4, put: (dv, v) => dv.setInt32(0, v, true) },
  int64: { dtype: 9, width: 8, put: (dv, v) => dv.setBigInt64(0, BigInt(v), true) },
};

/**
 * TF2 `tf.summary.scalar`: rank-0 tensor with raw little-endian `tensor_content`; TF2 puts
 * `scalars` metadata on a tag's first value only, so pass `metadata: false` for the rest.
 */
export function tensorContentRecord(
  tag: string, step: number, value: number, wallTime: number, dtype: ContentDtype,
  opts: { metadata?: boolean } = {},
): Uint8Array {
  const spec = CONTENT_DTYPES[dtype];
  const content = le(spec.width, (dv) => spec.put(dv, value));
  const v: ValueSpec = { tag, tensor: { dtype: spec.dtype, content } };
  if (opts.metadata ?? true) v.pluginName = 'scalars';
  return frameRecord(encodeEvent({ wallTime, step, values: [v] }));
}

/** Nearest binary16 bit pattern (ties away from zero; exact for values binary16 can hold). */
export function numberToHalfBits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let frac = Math.round((a / 2 ** e - 1) * 1024);
  if (frac === 1024) {
    frac = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | frac;
}

/** Nearest bfloat16 bit pattern (round half to even on the float32 bits). */
export function numberToBfloat16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7fc0;
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  const bits = dv.getUint32(0);
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
