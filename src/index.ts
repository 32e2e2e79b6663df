/**
 * The public library API of sluice. The command line uses exactly these exports.
 */
export { SluiceError, isSluiceError, isUsageError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export type { Fields, ReasonCode, LineageStep } from './core/record.js';
export { rowFields, isTextBatch, batchRows, type RowBatch, type TextBatch, type SourceBatch } from './core/row-batch.js';
export type { RunSettings, Strategy, FieldType, Format, FormatOption, Limits } from './core/settings.js';
export { DEFAULT_LIMITS, FORMATS, STRATEGIES, FIELD_TYPES } from './core/settings.js';
export { buildRunSettings, defaultDb } from './config/run-config.js';
export type { RunOptions } from './config/run-config.js';
export { runPipeline, RunExportFailed, RunInterrupted, silentObserver } from './pipeline/run-pipeline.js';
export type { RunObserver, RunProgress } from './pipeline/run-pipeline.js';
export type { RunSummary, FileReport } from './pipeline/summary.js';
export { openBackend, withSchema, isPostgresUrl, redact } from './backends/open-backend.js';
export type { Backend } from './backends/backend.js';
export type { RunRow, RunStatus, RunCounters, DeadLetterRow, WatermarkRow } from './ledger/ledger.js';
export { exportTable, exportBackendTable, convertFile, exportFormatOf, EXPORT_FORMATS } from './pipeline/export.js';
export type { ExportResult, ExportFormat, ExportTableOptions, ConvertFileOptions } from './pipeline/export.js';
export {
  listRuns,
  lineageByStep,
  keyHistory,
  LINEAGE_STEPS,
  REASON_CODES,
  pipelineStatus,
  resumeCommand,
  listDeadLetters,
  showDeadLetter,
  purgeDeadLetters,
  showWatermark,
  setWatermark,
  resetWatermark,
} from './pipeline/inspect.js';
export type {
  InspectOptions,
  RunListOptions,
  RunListEntry,
  LineageReport,
  StepCounts,
  KeyHistory,
  KeyEvent,
  KeyRowNow,
  PipelineStatus,
  UnfinishedRun,
  CheckpointPosition,
  TableCount,
  DeadLetterEntry,
  DeadLetterDetail,
  DeadLetterList,
  DeadLetterListOptions,
  PurgeOptions,
  PurgeResult,
  WatermarkInfo,
  WatermarkChange,
} from './pipeline/inspect.js';
export type { LedgerQueries, KeyLineageRow, DeadLetterFilter } from './ledger/queries.js';
export { replayDeadLetters } from './pipeline/replay.js';
export type { ReplayOptions, ReplaySummary } from './pipeline/replay.js';
