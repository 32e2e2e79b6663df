import type { Command } from 'commander';
import { pipelineStatus, type PipelineStatus, type UnfinishedRun } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, ALL_PIPELINES, commonFlags, dbOf, shownDb, where, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';
import { formatDuration, formatInstant, oneLine, plural, renderPairs, SCREEN_WIDTH, truncate } from '../table.js';
import { shownPath } from '../shown-path.js';

/** `sluice status`: where each pipeline stands, and what to do about an unfinished run. */
export function registerStatus(program: Command, setExit: (code: number) => void): void {
  const command = program.command('status').description('per pipeline: watermark, last run, unfinished run and how to resume it, table rows, dead letters waiting');
  commonFlags(command, { pipeline: ALL_PIPELINES }).action(
    action(setExit, async (flags: CommonFlags) => {
      const db = dbOf(flags);
      const statuses = await pipelineStatus({ db, pipeline: flags.pipeline });
      if (flags.json === true) {
        printJson(statuses);
        return EXIT.ok;
      }
      if (statuses.length === 0) {
        const which = flags.pipeline === undefined ? '' : ` of pipeline ${flags.pipeline}`;
        say(`nothing yet: no runs${which} in ${shownDb(flags)}`);
        return EXIT.ok;
      }
      process.stdout.write(`${statuses.map((s) => formatStatus(s, flags)).join('\n\n')}\n`);
      return EXIT.ok;
    }),
  );
}

export function formatStatus(s: PipelineStatus, flags: CommonFlags): string {
  const pairs: [string, string][] = [];
  const w = s.watermark;
  pairs.push(['watermark', w === null ? '(none)' : `${w.cursor} = ${w.value} (${w.cursor_type}; ${w.run_id === null ? 'set by hand' : `run ${w.run_id}`}, ${formatInstant(w.updated_at)})`]);
  const last = s.last_run;
  if (last !== null) {
    const took = last.finished_at === null ? '' : `, took ${formatDuration(Date.parse(last.finished_at) - Date.parse(last.started_at))}`;
    // Two lines: with the run count on it, this one outgrew an 80-column terminal.
    pairs.push(['last run', `${last.id} ${last.status}, started ${formatInstant(last.started_at)} UTC${took}`]);
    pairs.push(['runs', `${s.runs} in all`]);
    if (last.error !== null) pairs.push(['error', truncate(oneLine(last.error), SCREEN_WIDTH - 15)]);
  }
  if (s.unfinished !== null) pairs.push(...unfinished(s.unfinished));
  const tables = s.tables.map((t) => `${t.table} ${t.exists ? plural(t.rows, 'row') : '(missing)'}`);
  pairs.push(['tables', tables.length === 0 ? '(none)' : tables.join(', ')]);
  const waiting = s.dead_letters_waiting;
  pairs.push(['dead letters', waiting === 0 ? 'none waiting' : `${waiting} waiting: sluice dead-letters list ${where(flags, s.pipeline)}`]);
  const r = s.reread;
  if (r !== null) pairs.push(['re-read', truncate(`${plural(r.files, 'loaded file')}, by the next run (${r.reason})`, SCREEN_WIDTH - 15)]);
  return `pipeline ${s.pipeline}\n${indent(renderPairs(pairs))}`;
}

function unfinished(u: UnfinishedRun): [string, string][] {
  const state = { alive: `loading now (pid ${u.pid} on ${u.host})`, dead: `crashed (pid ${u.pid} on ${u.host} is gone)`, stopped: 'interrupted by a signal' }[u.process];
  const c = u.checkpoint;
  const done = `${c.files_done}/${c.files_total} files done${c.total_percent === null ? '' : `, ${c.total_percent}% of all bytes`}`;
  const at =
    c.file === null
      ? 'every file done; only the run\'s completion is missing'
      : `${truncate(shownPath(c.file), 40, 'end')} after record ${c.record}${c.file_percent === null ? '' : ` (${c.file_percent}% of the file)`}`;
  const pairs: [string, string][] = [
    ['unfinished', `run ${u.run_id} ${state}, ${plural(u.loaded, 'record')} loaded`],
    ['checkpoint', at],
    ['progress', done],
  ];
  // The command is for pasting: never truncated.
  if (u.resume_command !== null) pairs.push(['resume with', u.resume_command]);
  return pairs;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
