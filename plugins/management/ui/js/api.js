// The management API as the UI calls it: basic auth from the login (kept in sessionStorage,
// gone with the tab), JSON in and out, errors as ApiError with RabbitMQ's {error, reason}.

const KEY = 'warren.credentials';

export class ApiError extends Error {
  constructor(status, error, reason) {
    super(reason || error || `HTTP ${status}`);
    this.status = status;
    this.error = error;
  }
}

export function setCredentials(user, password) {
  sessionStorage.setItem(KEY, btoa(unescape(encodeURIComponent(`${user}:${password}`))));
}

export function clearCredentials() {
  sessionStorage.removeItem(KEY);
}

export function hasCredentials() {
  return sessionStorage.getItem(KEY) !== null;
}

/** `%2F` for '/': vhost and object names travel as path segments. */
export const seg = (s) => encodeURIComponent(s);

export async function api(method, path, body) {
  // X-Requested-With: the server then answers 401 without a Basic challenge (no browser login dialog)
  const headers = { authorization: `Basic ${sessionStorage.getItem(KEY) ?? ''}`, 'x-requested-with': 'XMLHttpRequest' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  if (text !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data?.error, data?.reason ?? text);
  return data;
}

export const get = (path) => api('GET', path);
