// Small helpers shared by the views: building elements, showing times and errors, drafts.

import { explain } from './ru.js';

/** An element with attributes and children; text is always set as text, never parsed as HTML. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Replaces what `element` shows. */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

const timeFormat = new Intl.DateTimeFormat('ru-RU', { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat('ru-RU', {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});

/** A time of today as 14:05, any other as 3 дек., 14:05. */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/** Seconds as 45 с, 3 мин 05 с, 1 ч 20 мин. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} с`;
  if (s < 3600) return `${Math.floor(s / 60)} мин ${String(s % 60).padStart(2, '0')} с`;
  return `${Math.floor(s / 3600)} ч ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} мин`;
}

export function percent(ratio) {
  return ratio === null || ratio === undefined ? '—' : `${Math.round(ratio * 100)} %`;
}

/** A value for <input type="datetime-local"> from an RFC 3339 time, in the browser's zone. */
export function toLocalInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** An RFC 3339 time (with the browser's offset) from <input type="datetime-local">. */
export function fromLocalInput(value) {
  if (!value) return null;
  return new Date(value).toISOString();
}

/** Shows `error` (an API error or anything thrown) in `where`, in Russian. */
export function showError(where, error) {
  where.textContent = explain(error);
  // The server's own words, for whoever is asked to look into it.
  if (error && error.message) where.title = error.message;
  where.hidden = false;
}

export function clearError(where) {
  where.textContent = '';
  where.hidden = true;
}

/**
 * Runs `action` for a form: the button is disabled while it runs, an error is shown in the
 * form's `.error` element, and on failure the fields keep what the person typed.
 */
export async function submitting(form, action) {
  const error = form.querySelector('.error');
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => (b.disabled = true));
  if (error) clearError(error);
  try {
    return await action();
  } catch (e) {
    if (error) showError(error, e);
    else notify(explain(e), true);
    return undefined;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

let noticeTimer = null;
/** A short message at the bottom of the screen; errors stay until the next message. */
export function notify(text, isError = false) {
  const notice = $('#notice');
  notice.textContent = text;
  notice.classList.toggle('bad', isError);
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (!isError) noticeTimer = setTimeout(() => (notice.hidden = true), 4000);
}

/** Text typed into a field survives a reload and a failed submit: kept in sessionStorage under `key`. */
export function keepDraft(field, key) {
  const stored = sessionStorage.getItem(`draft.${key}`);
  if (stored !== null && !field.value) field.value = stored;
  field.addEventListener('input', () => {
    if (field.value) sessionStorage.setItem(`draft.${key}`, field.value);
    else sessionStorage.removeItem(`draft.${key}`);
  });
}

export function dropDraft(key) {
  sessionStorage.removeItem(`draft.${key}`);
}

/** Calls `fn` at most once per `ms`, and once more after a burst, so a storm of events costs a few requests. */
export function throttle(fn, ms) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) {
      again = true;
      return;
    }
    fn();
    timer = setTimeout(function tick() {
      if (again) {
        again = false;
        fn();
        timer = setTimeout(tick, ms);
      } else {
        timer = null;
      }
    }, ms);
  };
}

/** An <option> list from a dictionary of codes and words. */
export function options(codes, dictionary, selected) {
  return codes.map((code) => h('option', { value: code, selected: code === selected }, dictionary[code] || code));
}

/**
 * Re-renders `container` without losing what the person is typing there: fields marked
 * `data-keep="key"` get their values back, and the focused one its focus and caret.
 */
export function preserving(container, render) {
  const kept = new Map();
  for (const field of container.querySelectorAll('[data-keep]')) kept.set(field.dataset.keep, field.value);
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.keep : undefined;
  const caret = focused !== undefined ? document.activeElement.selectionStart : null;
  render();
  for (const field of container.querySelectorAll('[data-keep]')) {
    if (kept.has(field.dataset.keep) && kept.get(field.dataset.keep) !== '') field.value = kept.get(field.dataset.keep);
    if (field.dataset.keep === focused) {
      field.focus();
      if (caret !== null && typeof field.setSelectionRange === 'function' && field.type !== 'datetime-local') {
        field.setSelectionRange(caret, caret);
      }
    }
  }
}
