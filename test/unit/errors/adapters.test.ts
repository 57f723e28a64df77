// The edges: a domain error becomes Core's envelope and status (admin API), a status and one
// line of text (device endpoints), or a message and an exit code (CLI).
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../../src/app/http-app.js';
import { asCliError, CliError, cliErrorFrom } from '../../../src/platform/cli/errors.js';
import { DomainError } from '../../../src/platform/errors/index.js';
import { ApiError, apiErrorFrom, deviceAnswerFrom, envelope } from '../../../src/platform/http/errors.js';
import { SecretBoxError } from '../../../src/platform/secrets/box.js';

describe('admin API adapter', () => {
  it("renders a domain error as its kind's status and Core's envelope, details beside the message", () => {
    const api = apiErrorFrom(new DomainError('app.duplicate', 'bundleId: iOS app a.b is already in the catalog', { field: 'bundleId' }));
    expect(api).toBeInstanceOf(ApiError);
    expect(api.status).toBe(409);
    expect(envelope(api)).toEqual({
      messages: [
        {
          type: 'Error',
          messageKey: 'com.mobileiron.vsp.messages.app.duplicate',
          localizedMessage: 'bundleId: iOS app a.b is already in the catalog',
          field: 'bundleId',
        },
      ],
    });
  });

  it('renders further messages (CSV rows) after the first, each with its own key and fields', () => {
    const err = new DomainError('device.csvRow', 'row 2: udid: bad', { row: 2, field: 'udid', errorCount: 2 }, [
      { code: 'device.csvRow', message: 'row 3: labels: no label named x', details: { row: 3, field: 'labels' } },
    ]);
    const api = apiErrorFrom(err);
    expect(api.status).toBe(400);
    expect(JSON.stringify(envelope(api))).toBe(
      JSON.stringify({
        messages: [
          {
            type: 'Error',
            messageKey: 'com.mobileiron.vsp.messages.csv.row',
            localizedMessage: 'row 2: udid: bad',
            row: 2,
            field: 'udid',
            errorCount: 2,
          },
          {
            type: 'Error',
            messageKey: 'com.mobileiron.vsp.messages.csv.row',
            localizedMessage: 'row 3: labels: no label named x',
            row: 3,
            field: 'labels',
          },
        ],
      }),
    );
  });

  it.each<[DomainError, number]>([
    [DomainError.validation('name', 'is required'), 400],
    [new DomainError('auth.unauthenticated', 'Invalid credentials'), 401],
    [DomainError.forbidden('read-only'), 403],
    [DomainError.notFound('Device', 'x'), 404],
    [new DomainError('enrollment.invitationSpent', 'used'), 410],
    [new DomainError('device.csvTooLarge', 'CSV is larger than 1 bytes; split it'), 413],
    [new DomainError('auth.tooManyAttempts', 'retry', { retryAfterSeconds: 9 }), 429],
    [new DomainError('secrets.undecryptable', 'wrong key'), 500],
    [new DomainError('scep.unavailable', 'no CA'), 503],
  ])('%s → %i', (err, status) => {
    expect(apiErrorFrom(err).status).toBe(status);
  });

  it("is what the app's error mapper uses; library failures map to their catalogue entries, the rest to a bare 500", () => {
    const domain = toApiError(new DomainError('profile.noVpn', 'Device d has no VPN configuration'));
    expect([domain.status, domain.messageKey]).toEqual([404, 'com.mockiron.messages.profile.noVpn']);
    const secret = toApiError(new SecretBoxError('cannot decrypt a stored password'));
    expect([secret.status, secret.messageKey, secret.message]).toEqual([
      500,
      'com.mockiron.messages.secrets.undecryptable',
      'cannot decrypt a stored password',
    ]);
    const unique = toApiError(Object.assign(new Error('Unique constraint failed on the fields: (`name`)'), { code: 'P2002' }));
    expect([unique.status, unique.messageKey, unique.message]).toEqual([
      409,
      'com.mobileiron.vsp.messages.duplicate',
      'A record with the same unique value already exists',
    ]);
    const json = toApiError({ type: 'entity.parse.failed', status: 400 });
    expect([json.status, json.messageKey]).toEqual([400, 'com.mobileiron.vsp.messages.json']);
    const bug = toApiError(new TypeError('x is undefined at /src/secret/path.ts'));
    expect([bug.status, bug.messageKey, bug.message]).toEqual([500, 'com.mobileiron.vsp.messages.http.500', 'Internal server error']);
    const http = new ApiError(415, 'com.mobileiron.vsp.messages.http.415', 'Send the body as application/json');
    expect(toApiError(http)).toBe(http);
  });
});

describe('device endpoint adapter', () => {
  it("answers the kind's status and the message as one line of plain text", () => {
    expect(deviceAnswerFrom(new DomainError('enrollment.challengeRefused', 'unknown enrollment challenge'))).toEqual({
      status: 403,
      body: 'unknown enrollment challenge\n',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    });
    expect(deviceAnswerFrom(new DomainError('enrollment.caUnavailable', 'no CA key')).status).toBe(503);
  });
});

describe('CLI adapter', () => {
  it("reports a domain error's message with its kind's exit code", () => {
    const cli = cliErrorFrom(DomainError.validation('--port', 'not a number'));
    expect(cli).toBeInstanceOf(CliError);
    expect([cli.message, cli.exitCode]).toEqual(['--port: not a number', 2]);
    expect(cliErrorFrom(DomainError.notFound('Device', 'x')).exitCode).toBe(3);
    expect(cliErrorFrom(new DomainError('vpn.duplicate', 'dup')).exitCode).toBe(4);
  });

  it('recognises CliErrors and domain errors, and nothing else, for the entry point', () => {
    const cli = new CliError('usage', 2);
    expect(asCliError(cli)).toBe(cli);
    expect(asCliError(new DomainError('scep.unavailable', 'no CA'))).toMatchObject({ message: 'no CA', exitCode: 6 });
    expect(asCliError(new Error('bug'))).toBeUndefined();
    expect(asCliError(Object.assign(new Error('x'), { name: 'DomainError', kind: 'made-up' }))).toBeUndefined();
    expect(asCliError('a string')).toBeUndefined();
  });
});
