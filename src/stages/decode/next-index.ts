/**
 * The next occurrence of a character at or after a position, for parsers that ask in increasing
 * order. Each occurrence is searched for once: asking "next comma" on every row of a text with no
 * comma left would otherwise rescan to its end every time (quadratic).
 */
export class NextIndex {
  private at = -2;

  constructor(
    private readonly text: string,
    private readonly char: string,
  ) {}

  /** Index of the next `char` at or after `from`, or the text's length when there is none. */
  from(from: number): number {
    if (this.at !== -1 && this.at < from) this.at = this.text.indexOf(this.char, from);
    return this.at === -1 ? this.text.length : this.at;
  }
}
