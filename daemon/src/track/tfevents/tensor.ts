/**
 * Extracts the single number held by a one-element `TensorProto` (tensorflow/core/framework/
 * tensor.proto), the way TF2 and torch `new_style` write scalars. Anything that is not a
 * one-element numeric tensor (images, histograms, text, strings) yields `undefined`.
 */
import { ProtoReader, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT } from './proto.ts';

/** TensorFlow `DataType` enum values this decoder understands. */
export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
export const DT_INT32 = 3;
export const DT_UINT8 = 4;
export const DT_INT16 = 5;
export const DT_INT8 = 6;
export const DT_INT64 = 9;
export const DT_BFLOAT16 = 14;
export const DT_UINT16 = 17;
export const DT_HALF = 19;
export const DT_UINT32 = 22;
export const DT_UINT64 = 23;

/** TensorProto field numbers. */
const F_DTYPE = 1;
const F_SHAPE = 2;
const F_CONTENT = 4;
const F_FLOAT_VAL = 5;
const F_DOUBLE_VAL = 6;
const F_INT_VAL = 7;
const F_INT64_VAL = 10;
const F_HALF_VAL = 13;
const F_UINT32_VAL = 16;
const F_UINT64_VAL = 17;

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE 754 binary16 bits to a number (exact). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits (the top half of a float32) to a number (exact). */
export function bfloat16ToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}

/** Byte width of one element in `tensor_content` for the numeric dtypes handled. */
function elementWidth(dtype: number): number {
  switch (dtype) {
    case DT_FLOAT: case DT_INT32: case DT_UINT32: return 4;
    case DT_DOUBLE: case DT_INT64: case DT_UINT64: return 8;
    case DT_HALF: case DT_BFLOAT16: case DT_INT16: case DT_UINT16: return 2;
    case DT_INT8: case DT_UINT8: return 1;
    default: return 0;
  }
}

/** One element of raw little-endian `tensor_content` at `pos`. */
function readContent(view: DataView, pos: number, dtype: number): number {
  switch (dtype) {
    case DT_FLOAT: return view.getFloat32(pos, true);
    case DT_DOUBLE: return view.getFloat64(pos, true);
    case DT_HALF: return halfToNumber(view.getUint16(pos, true));
    case DT_BFLOAT16: return bfloat16ToNumber(view.getUint16(pos, true));
    case DT_INT32: return view.getInt32(pos, true);
    case DT_UINT32: return view.getUint32(pos, true);
    case DT_INT16: return view.getInt16(pos, true);
    case DT_UINT16: return view.getUint16(pos, true);
    case DT_INT8: return view.getInt8(pos);
    case DT_UINT8: return view.getUint8(pos);
    case DT_INT64: return view.getInt32(pos + 4, true) * 4294967296 + view.getUint32(pos, true);
    case DT_UINT64: return view.getUint32(pos + 4, true) * 4294967296 + view.getUint32(pos, true);
    default: return NaN;
  }
}

/** Which typed `*_val` field carries values for a dtype when `tensor_content` is absent. */
function valField(dtype: number): number {
  switch (dtype) {
    case DT_FLOAT: return F_FLOAT_VAL;
    case DT_DOUBLE: return F_DOUBLE_VAL;
    case DT_HALF: case DT_BFLOAT16: return F_HALF_VAL;
    case DT_INT32: case DT_INT16: case DT_UINT16: case DT_INT8: case DT_UINT8: return F_INT_VAL;
    case DT_INT64: return F_INT64_VAL;
    case DT_UINT32: return F_UINT32_VAL;
    case DT_UINT64: return F_UINT64_VAL;
    default: return 0;
  }
}

/** Reads one element of a typed `*_val` field (wire type already checked), per dtype. */
function readVal(r: ProtoReader, field: number, dtype: number): number {
  if (field === F_FLOAT_VAL) return r.float();
  if (field === F_DOUBLE_VAL) return r.double();
  if (field === F_HALF_VAL) {
    const bits = r.uint32();
    return dtype === DT_BFLOAT16 ? bfloat16ToNumber(bits) : halfToNumber(bits);
  }
  if (field === F_INT_VAL) return r.int64(); // int32 varints sign-extend to 64 bits
  if (field === F_UINT32_VAL) return r.uint32();
  if (field === F_INT64_VAL) return r.int64();
  const v = r.int64(); // uint64: undo the signed reading above 2^63
  return v < 0 ? v + 18446744073709551616 : v;
}

/** Element count of a `TensorShapeProto` in `[start, end)`: -1 if unknown or negative dims. */
function shapeElements(r: ProtoReader, start: number, end: number): number {
  r.pos = start;
  let count = 1;
  while (r.pos < end) {
    const key = r.uint32();
    if (key === ((2 << 3) | WIRE_BYTES)) {
      const dimEnd = r.bytesEnd();
      let size = 0;
      while (r.pos < dimEnd) {
        const k = r.uint32();
        if (k === ((1 << 3) | WIRE_VARINT)) size = r.int64();
        else r.skip(k & 7);
      }
      if (size < 0) count = -1;
      else if (count >= 0) count *= size;
    } else if (key === ((3 << 3) | WIRE_VARINT)) {
      if (r.uint32() !== 0) count = -1; // unknown_rank
    } else {
      r.skip(key & 7);
    }
  }
  return count;
}

/**
 * Bits of precision a value of `dtype` carries: 32 for float32, 16 for half and bfloat16,
 * 64 for float64 and the integer types (exact as read).
 */
export function dtypeBits(dtype: number): number {
  if (dtype === DT_FLOAT) return 32;
  if (dtype === DT_HALF || dtype === DT_BFLOAT16) return 16;
  return 64;
}

/**
 * The value of a one-element numeric tensor in `r.buf[start, end)`, or `undefined` when the
 * tensor is not one (wrong dtype, several or zero elements, missing data). `info.dtype` (when
 * given) receives the tensor's dtype. Leaves `r.pos` at `end`.
 */
export function tensorScalar(r: ProtoReader, start: number, end: number, info?: { dtype: number }): number | undefined {
  let dtype = 0;
  let shapeStart = -1;
  let shapeEnd = -1;
  let contentStart = -1;
  let contentEnd = -1;
  r.pos = start;
  while (r.pos < end) {
    const key = r.uint32();
    const field = key >>> 3;
    const wt = key & 7;
    if (field === F_DTYPE && wt === WIRE_VARINT) dtype = r.uint32();
    else if (field === F_SHAPE && wt === WIRE_BYTES) {
      shapeEnd = r.bytesEnd();
      shapeStart = r.pos;
      r.pos = shapeEnd;
    } else if (field === F_CONTENT && wt === WIRE_BYTES) {
      contentEnd = r.bytesEnd();
      contentStart = r.pos;
      r.pos = contentEnd;
    } else {
      r.skip(wt);
    }
  }
  if (info !== undefined) info.dtype = dtype;
  const width = elementWidth(dtype);
  if (width === 0) return undefined;
  const elements = shapeStart < 0 ? 1 : shapeElements(r, shapeStart, shapeEnd);
  r.pos = end;
  if (elements !== 1) return undefined;
  if (contentStart >= 0) {
    return contentEnd - contentStart === width ? readContent(r.view, contentStart, dtype) : undefined;
  }
  // Typed values are read in a second pass: the dtype may follow them in the encoding.
  return firstVal(r, start, end, dtype);
}

/** First element of the `*_val` field matching `dtype` (packed or not) in `[start, end)`. */
function firstVal(r: ProtoReader, start: number, end: number, dtype: number): number | undefined {
  const want = valField(dtype);
  const elementWire = packedWireType(want);
  r.pos = start;
  let result: number | undefined;
  while (r.pos < end && result === undefined) {
    const key = r.uint32();
    const field = key >>> 3;
    const wt = key & 7;
    if (field === want && wt === WIRE_BYTES) {
      const packedEnd = r.bytesEnd();
      if (r.pos < packedEnd) result = readVal(r, field, dtype);
      r.pos = packedEnd;
    } else if (field === want && wt === elementWire) {
      result = readVal(r, field, dtype);
    } else {
      r.skip(wt);
    }
  }
  r.pos = end;
  return result;
}

/** Element wire type inside a packed repeated field. */
function packedWireType(field: number): number {
  if (field === F_FLOAT_VAL) return WIRE_FIXED32;
  if (field === F_DOUBLE_VAL) return WIRE_FIXED64;
  return WIRE_VARINT;
}
