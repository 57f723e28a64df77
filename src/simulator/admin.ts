// The few admin API calls the simulator makes: fetch the server CA (public), create the user and
// the enrollment invitation for each device (HTTP Basic).

import { X509Certificate } from 'node:crypto';
import { HttpError, type HttpClient, type HttpResponse } from './http.js';

export interface AdminCredentials {
  user: string;
  password: string;
}

export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export interface EnrollmentInvitation {
  id: string | number;
  url: string;
  token?: string;
  challenge?: string;
  expiresAt?: string;
}

function describe(response: HttpResponse): string {
  const text = response.body.toString('utf8');
  try {
    const json = JSON.parse(text) as { messages?: { localizedMessage?: string }[] };
    const message = json.messages
      ?.map((m) => m.localizedMessage)
      .filter(Boolean)
      .join('; ');
    if (message) return message;
  } catch {
    // not JSON: show the start of the text
  }
  return text.slice(0, 200);
}

export class AdminClient {
  readonly #base: string;
  readonly #authorization?: string;

  constructor(
    readonly http: HttpClient,
    server: string,
    credentials?: AdminCredentials,
  ) {
    this.#base = server.replace(/\/+$/, '');
    if (credentials) this.#authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  }

  get hasCredentials(): boolean {
    return this.#authorization !== undefined;
  }

  async #json(kind: string, method: string, path: string, body?: unknown): Promise<HttpResponse> {
    if (!this.#authorization) throw new AdminApiError('admin credentials are needed to create enrollment invitations');
    const headers: Record<string, string> = { Authorization: this.#authorization, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await this.http.request(kind, `${this.#base}${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (err instanceof HttpError) throw new AdminApiError(err.message);
      throw err;
    }
  }

  /** The CA that signs profiles and issues device identities (GET /api/v2/signing/ca.pem, public). */
  async caCertificatePem(): Promise<string> {
    const response = await this.http.request('admin-ca', `${this.#base}/api/v2/signing/ca.pem`, {
      headers: { Accept: 'application/x-pem-file' },
    });
    if (response.status !== 200)
      throw new AdminApiError(`GET /api/v2/signing/ca.pem answered ${response.status}: ${describe(response)}`, response.status);
    const pem = response.body.toString('utf8');
    try {
      new X509Certificate(pem);
    } catch {
      throw new AdminApiError('GET /api/v2/signing/ca.pem did not return a PEM certificate');
    }
    return pem;
  }

  /** Creates the user; an existing one (409) is fine. */
  async ensureUser(userId: string): Promise<void> {
    const response = await this.#json('admin-user', 'POST', '/api/v2/users', { userId });
    if (response.status === 201 || response.status === 200 || response.status === 409) return;
    throw new AdminApiError(`POST /api/v2/users answered ${response.status}: ${describe(response)}`, response.status);
  }

  async createEnrollment(userId: string, options: { deviceUuid?: string; expiresInMinutes?: number } = {}): Promise<EnrollmentInvitation> {
    const response = await this.#json('admin-enrollment', 'POST', '/api/v2/enrollments', { userId, ...options });
    if (response.status !== 201 && response.status !== 200) {
      throw new AdminApiError(`POST /api/v2/enrollments answered ${response.status}: ${describe(response)}`, response.status);
    }
    let results: EnrollmentInvitation | undefined;
    try {
      results = (JSON.parse(response.body.toString('utf8')) as { results?: EnrollmentInvitation }).results;
    } catch {
      // reported below
    }
    if (!results || typeof results.url !== 'string') throw new AdminApiError('POST /api/v2/enrollments: the answer has no results.url');
    return results;
  }
}
