/**
 * Field names from a CSV header row. Two columns with the same name would make one silently
 * overwrite the other in every record, so exact duplicates are renamed deterministically: the
 * second `name` becomes `name_2`, the third `name_3` (skipping any suffix already used by another
 * column of the header). An empty or blank name becomes `column_<n>` (n = 1-based column number). Each
 * rename is reported through `warn`, so the pipeline can show it.
 */
export function headerNames(cells: readonly string[], warn: (message: string) => void): string[] {
  // Blank too: normalizing would trim `  ` to an empty column name.
  const blank = cells.map((cell) => cell.trim() === '');
  const base = cells.map((cell, index) => (blank[index] === true ? `column_${index + 1}` : cell));
  const inHeader = new Set(base);
  const used = new Set<string>();
  const firstColumn = new Map<string, number>();
  const names = base.map((name, index) => {
    if (blank[index] === true) warn(`column ${index + 1} has an empty name; it is named "${name}"`);
    if (!used.has(name)) {
      used.add(name);
      firstColumn.set(name, index + 1);
      return name;
    }
    let n = 2;
    while (used.has(`${name}_${n}`) || inHeader.has(`${name}_${n}`)) n++;
    const renamed = `${name}_${n}`;
    used.add(renamed);
    warn(
      `columns ${firstColumn.get(name)} and ${index + 1} are both named "${name}"; column ${index + 1} is named "${renamed}"`,
    );
    return renamed;
  });
  return names;
}
