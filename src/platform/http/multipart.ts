// multipart/form-data bodies (Core's app-store uploads), read into memory within limits set per
// route: only the parts a route names are kept, each with its own size bound, and the whole
// body is bounded too. A declared Content-Length over the bound is refused before a byte is
// read; anything over a bound while reading stops the reading at once. Like the JSON parsers,
// this runs after authentication (RouteSpec.bodyParsers), so an anonymous upload costs nothing.
import busboy from 'busboy';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { DomainError } from '../errors/index.js';

export interface UploadedFile {
  filename: string;
  mimeType: string;
  data: Buffer;
}

export interface MultipartLimits {
  /** The whole body, headers of the parts included. */
  maxBytes: number;
  /** File parts the route takes, by part name, with the bytes each may have. */
  files: Readonly<Record<string, number>>;
  /** Text parts the route takes, by part name, with the bytes each may have. */
  fields: Readonly<Record<string, number>>;
}

/** The body schema of a file part; documented as binary. */
export function uploadedFile(description: string) {
  return z
    .custom<UploadedFile>((v) => typeof v === 'object' && v !== null && Buffer.isBuffer((v as UploadedFile).data), 'must be a file part')
    .meta({ type: 'string', format: 'binary', description } as Record<string, unknown>);
}

const tooLarge = (what: string, max: number) => new DomainError('request.tooLarge', `${what} is larger than ${max} bytes`);

/** After a refusal the rest of the body is not read: the connection closes once the answer is sent. */
function refuseUnread(req: Request, res: Response): void {
  req.unpipe();
  res.set('Connection', 'close');
}

/** Parses multipart/form-data into req.body: text parts as strings, file parts as UploadedFile. */
export function multipartBody(limits: MultipartLimits): RequestHandler {
  const names = [...Object.keys(limits.files), ...Object.keys(limits.fields)];
  const maxFile = Math.max(0, ...Object.values(limits.files));
  const maxField = Math.max(0, ...Object.values(limits.fields));
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      res.set('Connection', 'close');
      return next(tooLarge('The request body', limits.maxBytes));
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          // One over each bound, so that passing it is seen (busboy truncates silently at the bound).
          fileSize: maxFile + 1,
          fieldSize: maxField + 1,
          // Parts beyond the named ones are refused as unexpected or repeated (below); these
          // bounds, one over, only stop a flood of them.
          files: Object.keys(limits.files).length + 1,
          fields: Object.keys(limits.fields).length + 1,
          parts: names.length + 1,
          headerPairs: 16,
          fieldNameSize: 100,
        },
      });
    } catch {
      return next(DomainError.validation('body', 'malformed multipart/form-data (no boundary)'));
    }
    const body: Record<string, string | UploadedFile> = Object.create(null);
    const seen = new Set<string>();
    let settled = false;
    const fail = (err: DomainError) => {
      if (settled) return;
      settled = true;
      refuseUnread(req, res);
      parser.removeAllListeners();
      parser.on('error', () => {});
      next(err);
    };
    const known = (name: string, kind: 'file' | 'field') => {
      if (!Object.hasOwn(kind === 'file' ? limits.files : limits.fields, name)) {
        const expected = kind === 'file' ? Object.keys(limits.files) : Object.keys(limits.fields);
        fail(
          DomainError.validation(
            name || 'body',
            `unexpected ${kind} part "${name.slice(0, 64)}"; expected: ${expected.join(', ') || 'none'}`,
          ),
        );
        return false;
      }
      if (seen.has(name)) {
        fail(DomainError.validation(name, 'sent more than once'));
        return false;
      }
      seen.add(name);
      return true;
    };
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes) fail(tooLarge('The request body', limits.maxBytes));
    });
    parser.on('file', (name, stream, info) => {
      // A body cut short fails the open part's stream too; the parser's own 'error' answers it.
      stream.on('error', () => {});
      if (settled || !known(name, 'file')) return stream.resume();
      const max = limits.files[name]!;
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          stream.resume();
          return fail(tooLarge(`The "${name}" part`, max));
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (!settled && size <= max) body[name] = { filename: info.filename ?? '', mimeType: info.mimeType, data: Buffer.concat(chunks) };
      });
    });
    parser.on('field', (name, value, info) => {
      if (settled || !known(name, 'field')) return;
      const max = limits.fields[name]!;
      if (info.valueTruncated || Buffer.byteLength(value) > max) return fail(tooLarge(`The "${name}" part`, max));
      body[name] = value;
    });
    parser.on('partsLimit', () => fail(DomainError.validation('body', `at most ${names.length} parts are accepted (${names.join(', ')})`)));
    parser.on('filesLimit', () => fail(DomainError.validation('body', 'too many file parts')));
    parser.on('fieldsLimit', () => fail(DomainError.validation('body', 'too many text parts')));
    parser.on('error', (err: Error) => fail(DomainError.validation('body', `malformed multipart/form-data: ${err.message.slice(0, 200)}`)));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      req.body = { ...body };
      next();
    });
    req.pipe(parser);
  };
}
