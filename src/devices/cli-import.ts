// `mockiron devices import`: streams a CSV file to POST /api/v2/devices/bulk?async=true (the file
// is never read into memory), then polls the import job until it is done. A progress bar on a
// terminal (cli-progress, on stderr), a plain line per phase otherwise; the rows refused on
// stderr and a non-zero exit code when the import fails.
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { CliError } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import type { ImportJobView } from './bulk.js';

export interface ImportOptions {
  server: string;
  user: string;
  passwordFile?: string;
}

const PASSWORD_ENV = 'MOCKIRON_ADMIN_PASSWORD';
/** The exit code of an HTTP refusal, as `mockiron help exit-codes` lists them. */
const exitCodeOfStatus = (status: number) =>
  status === 400 || status === 413 || status === 415
    ? 2
    : status === 404
      ? 3
      : status === 409
        ? 4
        : status === 401 || status === 403
          ? 5
          : status === 429 || status === 503
            ? 6
            : 1;

interface Answer {
  status: number;
  body: string;
}

async function password(options: ImportOptions, io: CliIo): Promise<string> {
  if (options.passwordFile) {
    let text: string;
    try {
      text = (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(`cannot read --password-file ${options.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 2);
    }
    if (text === '') throw new CliError(`--password-file ${options.passwordFile} is empty`, 2);
    return text;
  }
  const fromEnv = io.env[PASSWORD_ENV];
  if (!fromEnv) throw new CliError(`the admin password is needed: --password-file FILE or ${PASSWORD_ENV}`, 2);
  return fromEnv;
}

function baseUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`--server: not a URL: ${server.slice(0, 100)}`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError('--server: an http:// or https:// URL', 2);
  return url;
}

/** One request; `upload` streams a file as the body, reporting the bytes sent. The answer may come before the upload ends (a refusal). */
function request(
  url: URL,
  method: string,
  headers: Record<string, string>,
  upload?: { file: string; size: number; sent: (bytes: number) => void },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, { method, headers: upload ? { ...headers, 'content-length': String(upload.size) } : headers });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    // After an early answer the server closes the connection: the rest of the upload fails, as expected.
    req.on('error', (err) => {
      if (!answered) reject(new CliError(`${url.origin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, 1));
    });
    if (!upload) {
      req.end();
      return;
    }
    const stream = createReadStream(upload.file, { highWaterMark: 256 * 1024 });
    let sent = 0;
    stream.on('data', (chunk) => {
      sent += chunk.length;
      upload.sent(sent);
    });
    stream.on('error', (err) => req.destroy(err));
    stream.pipe(req);
  });
}

function messagesOf(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { messages?: Array<{ localizedMessage?: string }> };
    return (parsed.messages ?? []).map((m) => m.localizedMessage ?? '').filter(Boolean);
  } catch {
    return body ? [body.slice(0, 200)] : [];
  }
}

/** Progress: a bar on a terminal, a line per phase (and per tenth of the rows written) otherwise. */
async function progress(io: CliIo) {
  const tty = io.stderr.isTTY === true;
  const bar = tty
    ? new (await import('cli-progress')).SingleBar({
        stream: io.stderr as NodeJS.WritableStream,
        format: '{phase} {bar} {percentage}% {value}/{total} {unit}',
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined;
  let phase = '';
  let tenth = -1;
  return {
    show(name: string, value: number, total: number, unit: string) {
      if (bar) {
        if (name !== phase) {
          if (phase) bar.stop();
          bar.start(Math.max(total, 1), value, { phase: name.padEnd(9), unit });
        } else bar.setTotal(Math.max(total, 1));
        bar.update(value, { phase: name.padEnd(9), unit });
        phase = name;
        return;
      }
      const step = total > 0 ? Math.floor((value / total) * 10) : 0;
      if (name !== phase || (name === 'writing' && step !== tenth)) io.stderr.write(`${name}: ${value}/${total} ${unit}\n`);
      phase = name;
      tenth = name === 'writing' ? step : -1;
    },
    stop() {
      bar?.stop();
    },
  };
}

export async function runImport(file: string, options: ImportOptions, io: CliIo): Promise<void> {
  const base = baseUrl(options.server);
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new CliError(`${file}: not a file`, 2);
    size = stat.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 2);
  }
  const authorization = `Basic ${Buffer.from(`${options.user}:${await password(options, io)}`).toString('base64')}`;
  const api = (path: string) => new URL(`${base.pathname.replace(/\/+$/, '')}/api/v2${path}`, base);
  const bar = await progress(io);
  try {
    const answer = await request(
      api('/devices/bulk?async=true'),
      'POST',
      { authorization, 'content-type': 'text/csv', accept: 'application/json' },
      { file, size, sent: (bytes) => bar.show('uploading', bytes, size, 'bytes') },
    );
    if (answer.status !== 202) {
      bar.stop();
      const messages = messagesOf(answer.body);
      for (const m of messages.slice(1)) io.stderr.write(`${m}\n`);
      throw new CliError(`${file}: ${messages[0] ?? `the server answered ${answer.status}`}`, exitCodeOfStatus(answer.status));
    }
    let job = (JSON.parse(answer.body) as { results: ImportJobView }).results;
    while (job.state === 'queued' || job.state === 'running') {
      bar.show(
        job.phase === 'writing' ? 'writing' : job.phase === 'reading' ? 'reading' : 'checking',
        job.rowsWritten,
        job.rowsRead,
        'rows',
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const polled = await request(api(`/devices/bulk/${job.id}`), 'GET', { authorization, accept: 'application/json' });
      if (polled.status !== 200)
        throw new CliError(
          `import job ${job.id}: ${messagesOf(polled.body)[0] ?? `answered ${polled.status}`}`,
          exitCodeOfStatus(polled.status),
        );
      job = (JSON.parse(polled.body) as { results: ImportJobView }).results;
    }
    bar.stop();
    if (job.state === 'failed') {
      for (const e of job.errors) io.stderr.write(`${file}: ${e.message}\n`);
      if (job.errorCount > job.errors.length) io.stderr.write(`${file}: … and ${job.errorCount - job.errors.length} more\n`);
      throw new CliError(
        `${file}: import failed, nothing was written${job.errors.length === 0 && job.message ? `: ${job.message}` : ` (${job.errorCount} row(s) refused)`}`,
        job.errors.length > 0 ? 2 : 1,
      );
    }
    io.stdout.write(`imported ${job.rowsWritten} devices from ${file} (job ${job.id})\n`);
  } finally {
    bar.stop();
  }
}
