export { exportRecords } from './export.js';
export type { ExportOptions } from './export.js';
export { interruptOnSignals } from './interrupt.js';
export type { Interrupt } from './interrupt.js';
export { nodeExportFs } from './export-fs.js';
export type { ExportFileHandle, ExportFs } from './export-fs.js';
export { EXPORT_FORMATS } from './types.js';
export type { ExportFormat, ExportResult, RowSource } from './types.js';
