// App ID patterns of PerApp rules. Cisco's guide fixes only: reverse-DNS IDs, `*` must be the last
// character, `*.*` allows all apps. The exact character set and the lone-`*` rejection are mock
// decisions (design note 5.3). Matching is case-sensitive (mock decision, design note 5.5).

export const ALL_APPS = '*.*';
const MAX_APP_ID_LENGTH = 255;
const LABEL = '[A-Za-z0-9_-]+';
const EXACT_APP_ID = new RegExp(`^${LABEL}(\\.${LABEL})+$`);
const PREFIX_BEFORE_STAR = new RegExp(`^${LABEL}(\\.${LABEL})*\\.?$`);
const BAD_CHAR = /[^A-Za-z0-9_.*-]/;

export type AppIdCheck = { ok: true; appId: string } | { ok: false; message: string };

/** Checks a rule's appId pattern; returns the trimmed pattern or a message saying what is wrong and how to fix it. */
export function validateAppIdPattern(raw: string): AppIdCheck {
  const appId = raw.trim();
  if (appId.length === 0) return { ok: false, message: 'appId is empty' };
  if (appId.length > MAX_APP_ID_LENGTH) {
    return { ok: false, message: `appId is ${appId.length} characters; at most ${MAX_APP_ID_LENGTH} are allowed` };
  }
  if (appId === '*') return { ok: false, message: "a lone '*' is not an app ID; use '*.*' to allow all apps" };
  if (appId === ALL_APPS) return { ok: true, appId };
  const bad = BAD_CHAR.exec(appId);
  if (bad) {
    return {
      ok: false,
      message: `appId '${appId}' contains '${bad[0]}'; only letters, digits, '_', '-', '.' and a final '*' are allowed`,
    };
  }
  const star = appId.indexOf('*');
  if (star !== -1 && star !== appId.length - 1) {
    return {
      ok: false,
      message: `'*' must be the last character of the appId (got '${appId}'); use a prefix such as 'com.example.*'`,
    };
  }
  if (star !== -1) {
    const prefix = appId.slice(0, -1);
    if (!PREFIX_BEFORE_STAR.test(prefix)) {
      return { ok: false, message: `appId '${appId}': the part before '*' has an empty label (leading or doubled '.')` };
    }
    return { ok: true, appId };
  }
  if (!EXACT_APP_ID.test(appId)) {
    if (!appId.includes('.')) {
      return { ok: false, message: `appId '${appId}' is not reverse-DNS; it needs at least two dot-separated labels` };
    }
    return { ok: false, message: `appId '${appId}' has an empty label (leading, trailing or doubled '.')` };
  }
  return { ok: true, appId };
}

/** Does a (valid) rule pattern cover this app ID? `com.cisco.*` covers `com.cisco.jabber`, not `com.cisco`. */
export function matchAppId(pattern: string, appId: string): boolean {
  if (pattern === ALL_APPS) return true;
  if (pattern.endsWith('*')) return appId.startsWith(pattern.slice(0, -1));
  return pattern === appId;
}

/** Orders matching rules for reporting: exact IDs first, then longer prefixes, then `*.*`. */
export function patternSpecificity(pattern: string): number {
  if (pattern === ALL_APPS) return 0;
  if (pattern.endsWith('*')) return 1 + pattern.length;
  return 1_000_000 + pattern.length;
}
