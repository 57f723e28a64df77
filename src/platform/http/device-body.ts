// Request bodies of the device-facing endpoints (/mdm, /ota, /scep): raw bytes, with a size
// limit per endpoint, checked while the body streams in (Content-Length first) so an oversized
// body is refused before it is held. Devices read plain text, so the refusals are plain text.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

import { DEVICE_BODY_LIMITS, deviceBodyLimit } from './device-limits.js';

export { DEVICE_BODY_LIMITS, deviceBodyLimit };

const REFUSALS: Record<string, [number, string]> = {
  'entity.too.large': [413, 'request body too large'],
  'encoding.unsupported': [415, 'unsupported Content-Encoding'],
  'charset.unsupported': [415, 'unsupported charset'],
  'request.aborted': [400, 'request aborted'],
  'request.size.invalid': [400, 'request body shorter or longer than its Content-Length'],
};

/** express.raw per endpoint limit; body-parser's refusals answered as short plain text. */
export function deviceBodyParser(connectLimit: number = DEVICE_BODY_LIMITS.connect): RequestHandler {
  const parsers = new Map<number, RequestHandler>();
  const parserFor = (limit: number) => {
    let parser = parsers.get(limit);
    if (!parser) parsers.set(limit, (parser = express.raw({ limit, type: () => true })));
    return parser;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const limit = deviceBodyLimit(req.path, connectLimit);
    parserFor(limit)(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      const type = (err as { type?: unknown }).type;
      const refusal = typeof type === 'string' ? REFUSALS[type] : undefined;
      if (!refusal) return next(err);
      const [status, text] = refusal;
      res
        .status(status)
        .type('text/plain; charset=utf-8')
        .send(status === 413 ? `${text} (limit ${limit} bytes)\n` : `${text}\n`);
    });
  };
}
