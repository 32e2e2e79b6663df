import type { ExportResult, FileReport, RunSummary } from '../index.js';
import { shownPath } from './shown-path.js';
import { plural } from './table.js';

/** The run summary for people: one headline, then the counters that reconcile. */
export function formatSummary(s: RunSummary): string {
  const read = s.files_loaded + s.files_failed;
  const verb = s.dry_run ? 'Would load' : s.status === 'interrupted' ? 'Interrupted after loading' : s.status === 'failed' ? 'Stopped after loading' : 'Loaded';
  const failed = s.files_failed > 0 ? ` (${s.files_failed} failed)` : '';
  const headline =
    s.table_kept === true
      ? `Kept ${s.table} as it was (${s.db}): ${plural(s.loaded, 'record')} from ${plural(read, 'file')}${failed} went to a new table that was not swapped in`
      : `${verb} ${plural(s.loaded, 'record')} from ${plural(read, 'file')}${failed} into ${s.table} (${s.db})`;
  const lines = [`${headline}${s.resumed ? ', resumed' : ''}`];
  lines.push(`  records: input ${s.input_records}, staged ${s.staged}, loaded ${s.loaded}, rejected ${s.rejected}` +
    `, skipped ${s.skipped_watermark} by watermark, ${s.skipped_stale} stale, ${s.skipped_duplicate} duplicate${s.dropped > 0 ? `, dropped ${s.dropped}` : ''}`);
  const unread = s.files_total - s.files_loaded - s.files_unchanged - s.files_failed;
  lines.push(`  files: ${s.files_total} total, ${s.files_loaded} loaded, ${s.files_unchanged} unchanged, ${s.files_failed} failed${unread > 0 ? `, ${unread} not read` : ''}`);
  lines.push(`  dead letters ${s.dead_letters}, lineage entries ${s.lineage_entries}, target rows ${s.target_rows}, watermark ${s.watermark ?? '(none)'}, ${s.duration_ms} ms`);
  for (const file of s.files) {
    if (file.status === 'failed') lines.push(`  ${failedLine(file)}`);
    if (file.new_columns.length > 0) lines.push(`  ${shownPath(file.path)}: new columns ${file.new_columns.join(', ')} (added)`);
    if (file.missing_columns.length > 0) lines.push(`  ${shownPath(file.path)}: lacks columns ${file.missing_columns.join(', ')}`);
  }
  for (const warning of s.warnings) lines.push(`  note: ${warning}`);
  const hint = rejectedHint(s);
  if (hint !== null) lines.push(`  see the rejected records: ${hint}`);
  if (s.export) lines.push(exportedLine(s.export));
  if (s.dry_run) lines.push('  dry run: nothing was committed');
  return lines.join('\n');
}

/**
 * Where the run's rejected records are listed. Those whose letter already waited from an earlier
 * read are filed under that read's run, so when there are some the hint lists the pipeline's
 * waiting letters instead of this run's.
 */
function rejectedHint(s: RunSummary): string | null {
  // A dry run committed no letters: there is nothing to list.
  if (s.dry_run) return null;
  if (s.rejected > s.dead_letters) return `sluice dead-letters list --db ${s.db} --pipeline ${s.pipeline}`;
  return s.dead_letters > 0 ? `sluice dead-letters list --db ${s.db} --run ${s.run_id}` : null;
}

/** Why a file of the run failed: in the summary, and alone under --quiet. */
export function failedLine(file: FileReport): string {
  return `failed: ${file.error ?? file.path}`;
}

/** What an export wrote (or, dry, would write). */
export function exportedLine(e: ExportResult): string {
  return e.status === 'dry-run' ? `Would export ${plural(e.exported, 'record')} to ${e.path}` : `Exported ${plural(e.exported, 'record')} to ${e.path} (atomic write)`;
}
