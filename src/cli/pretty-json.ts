/**
 * Indents a JSON text without parsing it into values: numbers, strings and escapes stay as
 * written. `JSON.parse` then `JSON.stringify` would round 12345678901234567890 to
 * 12345678901234567000, which is wrong to show for the very records rejected for precision.
 * The text must be valid JSON (the caller checked that it parses).
 */
export function indentJson(text: string, indent = '  '): string {
  let out = '';
  let depth = 0;
  let inString = false;
  const newline = (): string => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const next = nextToken(text, i + 1);
      if (text[next] === close) {
        out += c + close; // {} and [] stay on one line
        i = next;
        continue;
      }
      depth += 1;
      out += c + newline();
    } else if (c === '}' || c === ']') {
      depth -= 1;
      out += newline() + c;
    } else if (c === ',') out += c + newline();
    else if (c === ':') out += ': ';
    else out += c;
  }
  return out;
}

/** Index of the next character that is not JSON whitespace. */
function nextToken(text: string, from: number): number {
  let i = from;
  while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i += 1;
  return i;
}
