// The HTTP API and its live events, for the views. The token lives in sessionStorage: it goes
// away with the tab, so a shared workstation does not keep a shift's login.

import { ApiError } from './ru.js';

const TOKEN = 'hotline.token';
const USER = 'hotline.user';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  get user() {
    const raw = sessionStorage.getItem(USER);
    return raw ? JSON.parse(raw) : null;
  },
  save(token, user) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(USER, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
  },
};

/** Called when the server says the token is no longer good; the app sends the user to the login form. */
let onSessionLost = () => {};
export function whenSessionLost(handler) {
  onSessionLost = handler;
}

/**
 * One API call. Resolves with the JSON body (null for 204); rejects with an ApiError, status 0
 * when the server could not be reached.
 */
export async function call(method, path, body, contentType = 'application/json') {
  const headers = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  let payload;
  if (body !== undefined) {
    headers['content-type'] = contentType;
    payload = contentType === 'application/json' ? JSON.stringify(body) : body;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'network', 'the server could not be reached');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json && json.error ? json.error : {};
    const failure = new ApiError(response.status, error.code || `http_${response.status}`, error.message || text, error.details || []);
    if (response.status === 401 && path !== '/api/auth/login') onSessionLost();
    throw failure;
  }
  return json;
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);
export const put = (path, body) => call('PUT', path, body);
export const patch = (path, body) => call('PATCH', path, body);

/**
 * Live events. `onEvent(event)` gets each committed change; `onState('live' | 'reconnecting')`
 * says whether the stream is up. On every (re)connection `onState('live')` fires, and the
 * views reload what they show, so nothing missed while the line was down stays missing.
 */
export function live(onEvent, onState) {
  let source = null;
  let retry = null;
  const open = () => {
    source = new EventSource(`/api/events?token=${encodeURIComponent(session.token)}`);
    source.onopen = () => onState('live');
    source.onerror = () => {
      onState('reconnecting');
      // The browser retries by itself unless the server refused the stream (an expired login,
      // a restart that dropped it for good); then check the login and open a new one.
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        retry = setTimeout(async () => {
          try {
            await get('/api/auth/me');
            open();
          } catch {
            // The login is gone (the app shows the form) or the server is down: try again later.
            if (session.token) retry = setTimeout(open, 5000);
          }
        }, 2000);
      }
    };
    for (const topic of ['queue', 'operator', 'ticket', 'escalation', 'incident', 'crew', 'switch']) {
      source.addEventListener(topic, (message) => onEvent(JSON.parse(message.data)));
    }
  };
  open();
  return () => {
    clearTimeout(retry);
    if (source) source.close();
  };
}
