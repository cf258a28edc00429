/**
 * Incremental, dependency-free reader for TensorBoard event files (TFRecord-framed `Event`
 * protos): scalars written as `simple_value`, as `scalars`-plugin tensors with typed values
 * (torch `new_style`), or as TF2 raw `tensor_content`.
 */
export type { CorruptRecord, ScalarPoint, TfeventsCursor } from './types.ts';
export type { DecodeResult, DecodeStop } from './decode.ts';
export { decodeTfeventsBuffer, newTfeventsCursor } from './decode.ts';
export type { ReadTfeventsOptions, ReadTfeventsResult } from './read.ts';
export { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_RECORD_BYTES, readTfeventsFile } from './read.ts';
export { mergeScalarPoints } from './merge.ts';
export { crc32c, maskCrc, maskedCrc32c } from './crc32c.ts';
