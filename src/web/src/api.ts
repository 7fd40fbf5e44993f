// The JSON API with the session cookie (sent by the browser, HttpOnly) and the CSRF token
// (kept in memory only, never in storage) on every state-changing request.
export interface FieldError { pointer: string; detail: string }

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly detail: string,
    readonly fields: FieldError[] = [],
  ) {
    super(detail || `HTTP ${status}`);
  }
  is(slug: string): boolean {
    return this.type.endsWith(`/${slug}`);
  }
}

let csrfToken = '';
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

// Called when the session is gone (expired, logged out elsewhere): main shows the login page.
let onSessionLost: () => void = () => {};
export function whenSessionLost(f: () => void): void {
  onSessionLost = f;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await res.text();
  const json = text ? safeParse(text) : null;
  if (!res.ok) {
    const p = (json ?? {}) as { type?: string; detail?: string; title?: string; errors?: FieldError[] };
    const error = new ApiError(res.status, p.type ?? '', p.detail ?? p.title ?? '', p.errors ?? []);
    if (res.status === 401 && !path.endsWith('/login')) onSessionLost();
    throw error;
  }
  return json as T;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// A problem in Norwegian for the page (the API's detail is English and for developers).
export function norwegian(e: unknown): string {
  if (!(e instanceof ApiError)) return 'Noe gikk galt. Prøv igjen.';
  if (e.is('login-throttled')) return 'For mange mislykkede forsøk. Vent et kvarter og prøv igjen.';
  if (e.is('second-factor-required')) return 'Skriv inn engangskoden fra autentiseringsappen.';
  if (e.is('csrf-refused')) return 'Forespørselen ble avvist (mangler sikkerhetsnøkkel). Last siden på nytt.';
  if (e.is('invalid-state')) return 'Fakturaen er ikke i en status som tillater dette.';
  if (e.is('validation-failed')) {
    return 'Ugyldige felt: ' + e.fields.map((f) => f.pointer.replace(/^\//, '')).join(', ');
  }
  if (e.status === 401) return 'Feil brukernavn, passord eller engangskode.';
  if (e.status === 403) return 'Du har ikke tilgang til dette.';
  if (e.status === 404) return 'Fant ikke det du ba om.';
  return `Feil fra tjenesten (${e.status}). Prøv igjen.`;
}
