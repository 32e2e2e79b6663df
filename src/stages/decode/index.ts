export { decodeBatches, decodeFile, detectFormat, resumeAfter } from './decode.js';
export type { DecodedRecord, DecodeOptions, DecodeResume } from './types.js';
