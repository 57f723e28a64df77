// Request bodies of the device-facing endpoints (/mdm, /ota, /scep): raw bytes, with a size
// limit per endpoint, checked while the body streams in (Content-Length first) so an oversized
// body is refused before it is held. Devices read plain text, so the refusals are plain text.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

const KiB = 1024;

/** Byte limits per device endpoint. Connect's is the app's deviceBodyLimit (2 MiB by default). */
export const DEVICE_BODY_LIMITS = {
  /** Authenticate, TokenUpdate, CheckOut: a few KB (an UnlockToken is the largest field). */
  checkin: 256 * KiB,
  /** Command results may carry profile, certificate and application lists. */
  connect: 2 * 1024 * KiB,
  /** OTA phase 2: a small attributes plist, CMS-signed with the device's certificate chain. */
  otaProfile: 64 * KiB,
  /** SCEP PKIOperation: a CMS envelope around a CSR. */
  scep: 64 * KiB,
  /** Everything else on the device router (GETs, unknown paths). */
  other: 16 * KiB,
} as const;

/** The byte limit of a device endpoint's body; `connectLimit` overrides the connect default. */
export function deviceBodyLimit(path: string, connectLimit: number = DEVICE_BODY_LIMITS.connect): number {
  switch (path) {
    case '/mdm/checkin':
      return Math.min(DEVICE_BODY_LIMITS.checkin, connectLimit);
    case '/mdm/connect':
    case '/mdm':
      return connectLimit;
    case '/ota/profile':
      return DEVICE_BODY_LIMITS.otaProfile;
    case '/scep':
      return DEVICE_BODY_LIMITS.scep;
    default:
      return DEVICE_BODY_LIMITS.other;
  }
}

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
      res.status(status).type('text/plain; charset=utf-8').send(status === 413 ? `${text} (limit ${limit} bytes)\n` : `${text}\n`);
    });
  };
}
