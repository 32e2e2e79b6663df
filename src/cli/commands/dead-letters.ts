import type { Command } from 'commander';
import { Option } from 'commander';
import {
  listDeadLetters,
  purgeDeadLetters,
  REASON_CODES,
  showDeadLetter,
  SluiceError,
  type DeadLetterDetail,
  type DeadLetterEntry,
  type DeadLetterList,
  type PurgeResult,
} from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { action, ALL_PIPELINES, commonFlags, dbOf, shownDb, ONE_PIPELINE, positiveInt, quote, where, type CommonFlags } from '../inspect-flags.js';
import { printJson, say } from '../output.js';
import { formatInstant, oneLine, plural, renderPairs, renderTable, type Column } from '../table.js';
import { indentJson } from '../pretty-json.js';
import { shownPath } from '../shown-path.js';

interface ListFlags extends CommonFlags {
  run?: number;
  reason?: string;
  limit: number;
  all?: boolean;
}

interface PurgeFlags extends CommonFlags {
  run?: number;
  before?: string;
  yes?: boolean;
}

/**
 * `sluice dead-letters list|show|purge`. Returns the `dead-letters` command so `replay` can be
 * registered on it beside these.
 */
export function registerDeadLetters(program: Command, setExit: (code: number) => void): Command {
  const group = program.command('dead-letters').description('the rejected records: list them, show one, purge old ones');

  const list = group.command('list', { isDefault: true }).description('the newest dead letters waiting (not replayed or superseded), oldest first');
  commonFlags(list, { pipeline: ALL_PIPELINES })
    .option('--run <id>', 'only those of this run', positiveInt)
    .addOption(new Option('--reason <code>', 'only those rejected for this reason').choices(REASON_CODES))
    .option('--limit <n>', 'the newest N', positiveInt, 50)
    .option('--all', 'include the resolved ones: replayed, or superseded by a new version of their file')
    .action(
      action(setExit, async (flags: ListFlags) => {
        const result = await listDeadLetters({ db: dbOf(flags), pipeline: flags.pipeline, runId: flags.run, reason: flags.reason, limit: flags.limit, all: flags.all });
        if (flags.json === true) printJson(result.dead_letters);
        else showList(result, flags);
        return EXIT.ok;
      }),
    );

  const show = group.command('show').description('one dead letter in full: its raw record, reason, file and line').argument('<id>', 'dead letter id', positiveInt);
  commonFlags(show).action(
    action(setExit, async (id: number, flags: CommonFlags) => {
      const letter = await showDeadLetter({ db: dbOf(flags), id });
      if (flags.json === true) printJson(letter);
      else process.stdout.write(`${formatLetter(letter)}\n`);
      return EXIT.ok;
    }),
  );

  const purge = group.command('purge').description('delete dead letters of one run, or created before a date (needs --yes)');
  commonFlags(purge, { pipeline: ONE_PIPELINE })
    .option('--run <id>', 'the dead letters of this run', positiveInt)
    .option('--before <date>', 'those created before this date or time (ISO-8601, UTC unless an offset is given)')
    .option('--yes', 'really delete them')
    .action(action(setExit, async (flags: PurgeFlags) => purged(await purgeDeadLetters({ db: dbOf(flags), pipeline: flags.pipeline, runId: flags.run, before: flags.before, confirm: flags.yes === true }), flags)));
  return group;
}

function showList(result: DeadLetterList, flags: ListFlags): void {
  const letters = result.dead_letters;
  const hidden = result.resolved_hidden > 0 && flags.all !== true ? `; ${result.resolved_hidden} resolved ${result.resolved_hidden === 1 ? 'one' : 'ones'} (replayed or superseded) hidden (--all shows them)` : '';
  if (letters.length === 0) {
    const which = `${flags.run === undefined ? '' : ` of run ${flags.run}`}${flags.reason === undefined ? '' : ` with reason ${flags.reason}`}`;
    say(hidden === '' ? `nothing yet: no dead letters${which} in ${shownDb(flags)}` : `no dead letters${which} waiting in ${shownDb(flags)}${hidden}`);
    return;
  }
  const mixed = flags.pipeline === undefined && new Set(letters.map((d) => d.pipeline)).size > 1;
  const columns: Column[] = [
    { header: 'ID', align: 'right' },
    ...(mixed ? [{ header: 'PIPELINE', max: 16, min: 8 }] : []),
    { header: 'RUN', align: 'right' },
    { header: 'FILE:LINE', min: 14, keep: 'end' },
    { header: 'REASON' },
    { header: 'FIELD', max: 16, min: 5 },
    { header: 'MESSAGE', min: 16 },
    ...(flags.all === true ? [{ header: 'RESOLVED' }] : []),
  ];
  const rows = letters.map((d) => [
    String(d.id),
    ...(mixed ? [d.pipeline] : []),
    String(d.run_id),
    `${shownPath(d.file)}:${d.line}`,
    d.reason,
    d.field ?? '-',
    oneLine(d.message),
    ...(flags.all === true ? [resolution(d)] : []),
  ]);
  process.stdout.write(`${renderTable(columns, rows)}\n`);
  const shown = result.matching > letters.length ? `showing the newest ${letters.length} of ${result.matching} (--limit N shows more)` : plural(letters.length, 'dead letter');
  say(`${shown}${hidden}; details: sluice dead-letters show ID ${where(flags)}`);
}

function resolution(d: DeadLetterEntry): string {
  if (d.replayed_by !== null) return `replayed, run ${d.replayed_by}`;
  return d.superseded_by === null ? '-' : `superseded, run ${d.superseded_by}`;
}

function status(d: DeadLetterEntry): string {
  if (d.replayed_by !== null) return `replayed by run ${d.replayed_by}`;
  if (d.superseded_by === null) return 'waiting (not replayed yet)';
  return `superseded by run ${d.superseded_by}, which read ${shownPath(d.file)} again and found no such failing record at line ${d.line} (changed, removed, or passing now); never replayed`;
}

export function formatLetter(d: DeadLetterDetail): string {
  // Indented as written: parsed and printed again, a number beyond 2^53 would show rounded.
  const raw = d.raw_json === null ? d.raw : indentJson(d.raw);
  return renderPairs([
    ['dead letter', String(d.id)],
    ['pipeline', d.pipeline],
    ['run', String(d.run_id)],
    ['source', `${shownPath(d.file)}:${d.line}`],
    ['reason', d.reason],
    ['field', d.field ?? '-'],
    ['message', d.message],
    ['rejected at', `${formatInstant(d.created_at)} UTC`],
    ['status', status(d)],
    ['raw record', raw],
  ]);
}

function purged(result: PurgeResult, flags: PurgeFlags): number {
  const scope = result.run_id !== null ? `of run ${result.run_id}` : `of pipeline ${result.pipeline ?? ''} created before ${result.before ?? ''}`;
  if (flags.yes !== true && result.matched > 0) {
    const again = `sluice dead-letters purge ${where(flags, flags.pipeline ?? result.pipeline ?? undefined)} ${flags.run === undefined ? `--before ${quote(flags.before ?? '')}` : `--run ${flags.run}`} --yes`;
    throw new SluiceError('CONFIG_INVALID', `purge would delete ${plural(result.matched, 'dead letter')} ${scope}; nothing was deleted without --yes`, {
      hint: again,
    });
  }
  if (flags.json === true) printJson(result);
  else if (result.matched === 0) say(`no dead letters ${scope}: nothing to delete`);
  else say(`deleted ${plural(result.deleted, 'dead letter')} ${scope}`);
  return EXIT.ok;
}
