export { judgeCursor, parseCursor, compareSortable } from './watermark.js';
export type { CursorSpec, CursorType, WatermarkVerdict } from './watermark.js';
export { canonicalTimestamp } from '../../core/timestamp.js';
