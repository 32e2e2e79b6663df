/** A number as a spreadsheet reads one: `-12.5`, `+3`, `1e-9`. These are data, not formulas. */
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Neutralizes text that a spreadsheet would run as a formula (CSV injection): a cell starting
 * with `=`, `+`, `-`, `@`, tab or carriage return gets a leading single quote, as OWASP
 * recommends, so Excel/LibreOffice show it as text. Plain numbers are left alone.
 */
export function neutralizeFormula(text: string): string {
  return startsLikeFormula(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

function startsLikeFormula(text: string): boolean {
  switch (text.charCodeAt(0)) {
    case 0x3d: // =
    case 0x2b: // +
    case 0x2d: // -
    case 0x40: // @
    case 0x09: // tab
    case 0x0d: // carriage return
      return true;
    default:
      return false;
  }
}
