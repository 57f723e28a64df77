// A streaming CSV reader (RFC 4180: comma-separated, fields optionally in double quotes with ""
// for a quote, records ended by LF or CRLF), fed text a chunk at a time. Whitespace around a
// field is dropped (csv-parse's `trim`), empty lines are skipped, a leading BOM is ignored.
//
// Why not csv-parse, which the import used before: on this machine it parsed about 40,000 rows
// a second, slower than the database writes them. Here a line without quotes is one indexOf
// and one split; only lines with a quote go through the character-by-character path.

/** A syntax error, with the physical line (1-based) it was found on. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    /** The record was longer than the reader's bound (a size problem rather than a syntax one). */
    readonly tooLong = false,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

const isBlank = (c: number) => c === 0x20 || c === 0x09;
/** A character String.prototype.trim might remove: checked before paying for trim(). */
const mayTrim = (c: number) => c <= 0x20 || c >= 0x80;

export class CsvReader {
  private pending = '';
  private started = false;
  /** Physical line at the start of `pending`. */
  private line = 1;

  /** `maxRecordChars`: a record (with its quotes and separators) longer than this is refused. */
  constructor(private readonly maxRecordChars = 64 * 1024) {}

  /** Feeds `text` and appends the records it completes to `out`. */
  push(text: string, out: string[][]): void {
    this.parse(this.pending.length === 0 ? text : this.pending + text, false, out);
  }

  /** The input is complete: appends the last record (one without a final line break) to `out`. */
  end(out: string[][]): void {
    this.parse(this.pending, true, out);
    this.pending = '';
  }

  private parse(buf: string, final: boolean, out: string[][]): void {
    let pos = 0;
    if (!this.started) {
      if (buf.length === 0 && !final) return;
      this.started = true;
      if (buf.charCodeAt(0) === 0xfeff) pos = 1;
    }
    const len = buf.length;
    // The next quote at or after pos, searched again only once passed (one scan of the text).
    let quote = -2;
    while (pos < len) {
      const start = pos;
      const nl = buf.indexOf('\n', pos);
      const lineEnd = nl === -1 ? len : nl;
      if (lineEnd - start > this.maxRecordChars) throw this.tooLong();
      if (nl === -1 && !final) break;
      // Fast path: a whole line without quotes.
      if (quote !== -1 && quote < pos) quote = buf.indexOf('"', pos);
      if (quote === -1 || quote > lineEnd) {
        let text = buf.slice(start, lineEnd);
        if (text.charCodeAt(text.length - 1) === CR) text = text.slice(0, -1);
        pos = lineEnd + 1;
        this.line++;
        // Empty and blank lines are skipped (csv-parse's skip_empty_lines with trim).
        if (text.length === 0 || (mayTrim(text.charCodeAt(0)) && text.trim().length === 0)) continue;
        const fields = text.split(',');
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i]!;
          if (f.length > 0 && (mayTrim(f.charCodeAt(0)) || mayTrim(f.charCodeAt(f.length - 1)))) fields[i] = f.trim();
        }
        out.push(fields);
        continue;
      }
      const record = this.quotedRecord(buf, start, final);
      if (!record) {
        if (len - start > this.maxRecordChars) throw this.tooLong();
        break;
      }
      pos = record.end;
      this.line += record.lines;
      out.push(record.fields);
    }
    this.pending = pos < len ? buf.slice(pos) : '';
  }

  /** The record at `start`, which has a quote; undefined when it continues past the text (and more may come). */
  private quotedRecord(buf: string, start: number, final: boolean): { fields: string[]; end: number; lines: number } | undefined {
    const fields: string[] = [];
    const len = buf.length;
    let lines = 0;
    let pos = start;
    for (;;) {
      while (pos < len && isBlank(buf.charCodeAt(pos))) pos++;
      let value: string;
      if (pos < len && buf.charCodeAt(pos) === QUOTE) {
        // A quoted field: up to the quote not followed by another; "" is one quote.
        const parts: string[] = [];
        let from = pos + 1;
        for (;;) {
          const q = buf.indexOf('"', from);
          if (q === -1) {
            if (final) throw new CsvSyntaxError('a quoted field is not closed', this.line + lines);
            return undefined;
          }
          if (q + 1 >= len && !final) return undefined;
          parts.push(buf.slice(from, q));
          if (buf.charCodeAt(q + 1) === QUOTE) {
            parts.push('"');
            from = q + 2;
            continue;
          }
          pos = q + 1;
          break;
        }
        value = parts.join('');
        for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === LF) lines++;
        while (pos < len && isBlank(buf.charCodeAt(pos))) pos++;
        const next = buf.charCodeAt(pos);
        if (pos < len && next !== COMMA && next !== LF && next !== CR) {
          throw new CsvSyntaxError('only a comma or the end of the line may follow a closing quote', this.line + lines);
        }
      } else {
        // Unquoted: up to the next comma or line break; a quote inside is an error.
        let end = pos;
        for (; end < len; end++) {
          const c = buf.charCodeAt(end);
          if (c === COMMA || c === LF) break;
          if (c === QUOTE)
            throw new CsvSyntaxError('a quote inside an unquoted field (quote the whole field, and double the quote)', this.line + lines);
        }
        value = buf.slice(pos, end);
        if (value.charCodeAt(value.length - 1) === CR && (end === len || buf.charCodeAt(end) === LF)) value = value.slice(0, -1);
        value = value.trim();
        pos = end;
      }
      fields.push(value);
      if (pos >= len) {
        if (!final) return undefined;
        return { fields, end: pos, lines: lines + 1 };
      }
      const c = buf.charCodeAt(pos);
      if (c === CR) {
        if (pos + 1 >= len) return final ? { fields, end: pos + 1, lines: lines + 1 } : undefined;
        if (buf.charCodeAt(pos + 1) !== LF) throw new CsvSyntaxError('a carriage return not followed by a line feed', this.line + lines);
        return { fields, end: pos + 2, lines: lines + 1 };
      }
      if (c === LF) return { fields, end: pos + 1, lines: lines + 1 };
      pos++; // the comma
      if (pos - start > this.maxRecordChars) throw this.tooLong();
    }
  }

  private tooLong(): CsvSyntaxError {
    return new CsvSyntaxError(`a record is longer than ${this.maxRecordChars} characters`, this.line, true);
  }
}
