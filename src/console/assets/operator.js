// The operator's view: the live queue, taking the next item, the caller in front of them (number,
// settlement, path through the IVR, earlier tickets), notes, lifecycle steps, wrap-up, and a
// ticket made by hand for a caller who reached the operator directly.

import { get, post, put } from './api.js';
import {
  CATEGORY,
  CHANNEL,
  DISPOSITION,
  ITEM_KIND,
  ITEM_STATE,
  OPERATOR_STATUS,
  TICKET_STATUS,
  explain as explainText,
  ivrStep,
  word,
} from './ru.js';
import { $, dropDraft, duration, fill, h, keepDraft, notify, options, submitting, throttle, when } from './ui.js';

export const shortcuts = [
  ['Alt+N', 'взять следующего'],
  ['Alt+W', 'завершить обращение'],
  ['Alt+M', 'к заметке'],
  ['Alt+T', 'новая заявка'],
  ['Ctrl+Enter', 'отправить форму'],
];

// The item in hand, kept across reloads of the tab: {item, ticket, history, answers, handMade}.
const TAKEN = 'hotline.taken';
// An operator's console must say it is alive well within the lease (90 s by default).
const HEARTBEAT_MS = 30000;

let taken = null;
let dispositions = [];
let heartbeat = null;
let queueWaiting = [];
const settlementIds = new Map();

const view = () => $('#operator-view');

function saveTaken() {
  if (taken) sessionStorage.setItem(TAKEN, JSON.stringify(taken));
  else sessionStorage.removeItem(TAKEN);
}

async function loadQueue() {
  const queue = await get('/api/queue');
  queueWaiting = queue.items;
  const stats = queue.stats;
  fill($('#queue-count'), String(stats.waiting));
  fill(
    $('#queue-stats'),
    `Ждут: ${stats.waiting} · дольше всех: ${duration(stats.oldest_wait_s)} · ` +
      `ожидание ≈ ${duration(stats.estimated_wait_s)} · операторов на линии: ${stats.operators_available}`,
  );
  const list = $('#queue-list');
  if (queue.items.length === 0) {
    fill(list, h('li', { class: 'muted' }, 'Очередь пуста.'));
    return;
  }
  fill(
    list,
    queue.items.map((item) =>
      h(
        'li',
        { class: `queue-item p${item.priority}`, 'data-kind': item.kind },
        h('span', { class: 'pos' }, `${item.position}.`),
        h('span', { class: 'what' }, `${word(ITEM_KIND, item.kind)} · ${word(CATEGORY, item.category)}`),
        h('span', { class: 'who' }, item.caller_number || (item.ticket_number ? `№ ${item.ticket_number}` : '')),
        h('span', { class: 'since muted' }, `с ${when(item.enqueued_at)}`),
      ),
    ),
  );
}

const reloadQueue = throttle(() => loadQueue().catch((e) => notify(`Очередь: ${e.message}`, true)), 500);

async function loadMe() {
  const me = await get('/api/operators/me');
  dispositions = me.dispositions;
  const form = $('#operator-state');
  if (me.operator) {
    // The server pauses an operator whose phone did not take a caller put through to it: say so
    // at once, or the next calls would wait for someone who is not there.
    const pausedByServer = me.operator.status === 'paused' && form.status.value !== 'paused';
    if (pausedByServer && me.operator.pause_reason) {
      form.reason.value = me.operator.pause_reason;
      notify(`Вы на паузе: ${me.operator.pause_reason}. Проверьте телефон и вернитесь в статус «доступен».`, true);
    }
    // wrap_up is the server's to set; the select shows where the operator returns after it.
    if (me.operator.status !== 'wrap_up') form.status.value = me.operator.status;
    if (!form.reason.value) form.reason.value = me.operator.pause_reason || '';
    if (!form.contact.value) form.contact.value = me.operator.contact || '';
  }
  form.querySelector('[name=status]').title = me.operator ? word(OPERATOR_STATUS, me.operator.status) : '';
  const select = $('#wrapup-form [name=disposition]');
  const chosen = select.value;
  fill(select, h('option', { value: '' }, '— выберите итог —'), options(dispositions, DISPOSITION, chosen));
  if (!me.item) {
    if (taken && taken.item) {
      // Someone else's doing (the lease ran out, a supervisor): the item is no longer ours.
      taken = null;
      saveTaken();
    }
  } else if (!taken || !taken.item || taken.item.id !== me.item.id) {
    // A reload or another tab took it: rebuild what the view needs from the API.
    const ticket = me.item.ticket_id ? await get(`/api/tickets/${me.item.ticket_id}`) : null;
    taken = await withCallerContext({ item: me.item, ticket, history: [], answers: null, handMade: null });
  } else {
    taken.item = me.item;
  }
  saveTaken();
}

/**
 * `work` with the caller's path through the IVR and earlier tickets filled in. It is complete
 * before it is shown: a live event rendering meanwhile must not show a half-loaded caller.
 */
async function withCallerContext(work) {
  const item = work.item;
  if (item.call_id) {
    try {
      work.answers = (await get(`/api/calls/${item.call_id}`)).answers;
    } catch {
      work.answers = null;
    }
  }
  if (item.caller_number && work.history.length === 0) {
    const page = await get(`/api/tickets?q=${encodeURIComponent(item.caller_number)}&limit=20`);
    work.history = page.items.filter((t) => t.id !== item.ticket_id);
  }
  return work;
}

async function reloadTicket() {
  const shown = currentTicket();
  if (!shown) return;
  const fresh = await get(`/api/tickets/${shown.id}`);
  if (taken.handMade && taken.handMade.id === fresh.id) taken.handMade = fresh;
  else taken.ticket = fresh;
  saveTaken();
  renderCurrent();
}

/** The ticket the operator works on: the item's own, or one made by hand for this caller. */
function currentTicket() {
  return taken && (taken.handMade || taken.ticket);
}

function fact(label, value) {
  return [h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '—' : value)];
}

// How a lifecycle step reads on its button. Which steps a ticket allows comes with the ticket
// (`allowed_transitions`); back to `queued` has no button: work goes back with «Вернуть в очередь».
function stepLabel(from, to) {
  if (to === 'in_progress') return { escalated: 'Вернуть в работу', resolved: 'Открыть снова' }[from] || 'Взять в работу';
  return { escalated: 'Передать диспетчеру', resolved: 'Решено', closed: 'Закрыть', cancelled: 'Отменить' }[to];
}

// A recording is a link only when it is http(s): any other scheme (javascript:, data:) is shown
// as text and never followed. The server keeps only http(s) ones; this holds for older rows too.
function recordingLink(url) {
  return /^https?:\/\/[^\s/?#]+/i.test(url)
    ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, 'прослушать')
    : h('span', { class: 'muted' }, `ссылка не открывается: ${url}`);
}

function renderCurrent() {
  const hasWork = Boolean(taken && (taken.item || currentTicket()));
  $('#current').hidden = !hasWork;
  $('#current-empty').hidden = hasWork;
  renderHistory();
  if (!hasWork) return;
  const item = taken.item;
  const ticket = currentTicket();
  const settlement = ticket && ticket.settlement ? `${ticket.settlement.name} (${ticket.settlement.postcode})` : null;
  fill(
    $('#current-facts'),
    item ? fact('Вид', `${word(ITEM_KIND, item.kind)}${item.state !== 'assigned' ? ` — ${word(ITEM_STATE, item.state)}` : ''}`) : [],
    fact('Номер абонента', (item && item.caller_number) || (ticket && ticket.caller_number)),
    fact('Населённый пункт', settlement),
    fact('Заявка', ticket ? `№ ${ticket.number} · ${word(TICKET_STATUS, ticket.status)} · ${word(CHANNEL, ticket.channel)}` : 'нет — создайте вручную справа'),
    fact('Категория', ticket ? `${word(CATEGORY, ticket.category)}, приоритет ${ticket.priority}` : item && word(CATEGORY, item.category)),
    ticket && ticket.address ? fact('Адрес', ticket.address) : [],
    ticket ? fact('Описание', ticket.description) : [],
    ticket && ticket.recording_url ? fact('Запись', recordingLink(ticket.recording_url)) : [],
    item ? fact('В очереди с', when(item.enqueued_at)) : [],
  );
  $('#current-facts').classList.toggle('gone', Boolean(item && item.state === 'abandoned'));
  const path = $('#current-path');
  if (!item || !item.call_id) fill(path, h('li', { class: 'muted' }, 'Обращение пришло не через голосовое меню.'));
  else if (!taken.answers) fill(path, h('li', { class: 'muted' }, 'Путь по меню недоступен.'));
  else if (taken.answers.length === 0) fill(path, h('li', { class: 'muted' }, 'Абонент сразу попал к оператору.'));
  else fill(path, taken.answers.map((a) => h('li', {}, ivrStep(a))));

  fill(
    $('#lifecycle'),
    ticket
      ? (ticket.allowed_transitions || [])
          .filter((to) => stepLabel(ticket.status, to))
          .map((to) => h('button', { type: 'button', class: 'quiet', onclick: () => transition(to) }, stepLabel(ticket.status, to)))
      : [],
  );
  fill(
    $('#notes'),
    ticket && ticket.notes && ticket.notes.length
      ? ticket.notes.map((n) => h('li', {}, h('span', { class: 'muted' }, `${when(n.created_at)} · ${n.author}: `), n.text))
      : h('li', { class: 'muted' }, ticket ? 'Заметок пока нет.' : 'Заметки — после создания заявки.'),
  );
  $('#note-form').hidden = !ticket;
  $('#release').hidden = !item;
  const noteField = $('#note-form [name=text]');
  if (ticket && noteField.dataset.ticket !== ticket.id) {
    noteField.value = '';
    noteField.dataset.ticket = ticket.id;
    keepDraftFor(noteField, `note.${ticket.id}`);
  }
  const newTicket = $('#new-ticket');
  if (item && item.caller_number && !newTicket.caller_number.value) newTicket.caller_number.value = item.caller_number;
}

// One draft listener per field; the key follows the ticket on screen.
function keepDraftFor(field, key) {
  field.dataset.draft = key;
  const stored = sessionStorage.getItem(`draft.${key}`);
  if (stored) field.value = stored;
}

function renderHistory() {
  const list = $('#history');
  if (!taken || !taken.item) {
    fill(list, h('li', { class: 'muted' }, 'Появятся, когда возьмёте обращение.'));
    return;
  }
  if (!taken.history.length) {
    fill(list, h('li', { class: 'muted' }, 'Прежних заявок нет.'));
    return;
  }
  fill(
    list,
    taken.history.map((t) =>
      h(
        'li',
        {},
        h('strong', {}, `№ ${t.number}`),
        ` · ${word(CATEGORY, t.category)} · ${word(TICKET_STATUS, t.status)} · ${when(t.created_at)}`,
        h('div', { class: 'muted' }, [t.settlement ? t.settlement.name : null, t.description].filter(Boolean).join(' — ')),
      ),
    ),
  );
}

async function takeNext() {
  if (taken && taken.item) {
    notify('Сначала завершите текущее обращение или верните его в очередь.', true);
    return;
  }
  const button = $('#take-next');
  button.disabled = true;
  try {
    const answer = await post('/api/queue/next');
    if (!answer) {
      const calls = queueWaiting.some((i) => i.kind === 'live_call');
      const contact = $('#operator-state [name=contact]').value.trim();
      notify(
        calls && !contact
          ? 'Звонки ждут, но они соединяются только с оператором, у которого указан телефон или SIP-адрес.'
          : 'Брать нечего: очередь пуста.',
        true,
      );
      return;
    }
    // The answer holds all the view shows: the ticket in detail, earlier tickets, the IVR path.
    taken = { item: answer.item, ticket: answer.ticket, history: answer.history, answers: answer.answers, handMade: null };
    saveTaken();
    renderCurrent();
    notify(`Взято: ${word(ITEM_KIND, answer.item.kind)}${answer.item.caller_number ? `, ${answer.item.caller_number}` : ''}.`);
    $('#note-form [name=text]').focus();
  } catch (e) {
    notify(explainShort(e), true);
    await loadMe().catch(() => {});
    renderCurrent();
  } finally {
    button.disabled = false;
    reloadQueue();
  }
}

function explainShort(e) {
  return e.code === 'conflict' ? 'Сначала завершите обращение, которое уже у вас.' : `Не удалось: ${explainText(e)}`;
}

async function transition(to) {
  const ticket = currentTicket();
  try {
    await post(`/api/tickets/${ticket.id}/transition`, { to });
    await reloadTicket();
    notify(`Заявка № ${ticket.number}: ${word(TICKET_STATUS, to)}.`);
  } catch (e) {
    notify(explainText(e), true);
    await reloadTicket().catch(() => {});
  }
}

async function addNote(form) {
  const ticket = currentTicket();
  const field = form.text;
  if (!field.value.trim()) {
    field.focus();
    return;
  }
  await submitting(form, async () => {
    await post(`/api/tickets/${ticket.id}/notes`, { text: field.value });
    dropDraft(field.dataset.draft);
    field.value = '';
    await reloadTicket();
  });
}

async function wrapUp(form) {
  if (!taken) return;
  if (!form.disposition.value) {
    form.disposition.focus();
    notify('Выберите итог обращения и нажмите Alt+W ещё раз.', true);
    return;
  }
  const note = form.note.value.trim() || undefined;
  await submitting(form, async () => {
    if (taken.item) {
      await post(`/api/queue/${taken.item.id}/complete`, { disposition: form.disposition.value, note });
    }
    // A ticket made by hand during the call ends with the call, unless it already moved on.
    const handMade = taken.handMade;
    if (handMade && (handMade.status === 'in_progress' || !taken.item)) {
      const to = ['duplicate', 'wrong_number', 'prank'].includes(form.disposition.value) ? 'cancelled' : 'resolved';
      await post(`/api/tickets/${handMade.id}/transition`, { to, disposition: form.disposition.value, note });
    }
    const ticket = currentTicket();
    if (ticket) dropDraft(`note.${ticket.id}`);
    // The hand-made ticket form may hold something half-typed for later; only this caller's number goes.
    const callerField = $('#new-ticket [name=caller_number]');
    if (taken.item && callerField.value === taken.item.caller_number) callerField.value = '';
    taken = null;
    saveTaken();
    form.reset();
    $('#note-form [name=text]').dataset.ticket = '';
    renderCurrent();
    notify('Обращение завершено.');
    await loadMe();
    $('#take-next').focus();
  });
}

async function release() {
  if (!taken || !taken.item) return;
  try {
    await post(`/api/queue/${taken.item.id}/release`);
    taken = null;
    saveTaken();
    renderCurrent();
    notify('Обращение возвращено в очередь на прежнее место.');
  } catch (e) {
    notify(explainText(e), true);
    await loadMe().catch(() => {});
    renderCurrent();
  }
}

async function saveState(form) {
  await submitting(form, async () => {
    const status = form.status.value;
    const state = await put('/api/operators/me', {
      status,
      reason: status === 'paused' ? form.reason.value : null,
      contact: form.contact.value.trim() || null,
    });
    notify(`Статус: ${word(OPERATOR_STATUS, state.status)}.`);
    reloadQueue();
  });
}

async function lookUpSettlements(text) {
  const value = text.trim();
  let path = null;
  if (/^\d{6}$/.test(value)) path = `/api/settlements?postcode=${value}`;
  else if (value.length >= 2 && !/\(\d{6}\)$/.test(value)) path = `/api/settlements?q=${encodeURIComponent(value)}`;
  if (!path) return;
  try {
    const found = await get(path);
    fill(
      $('#settlement-choices'),
      found.items.slice(0, 30).map((s) => {
        const label = `${s.name} (${s.postcode})`;
        settlementIds.set(label, s.id);
        return h('option', { value: label }, s.district);
      }),
    );
    // A postcode of a single settlement needs no choice.
    if (found.items.length === 1 && /^\d{6}$/.test(value)) {
      $('#new-ticket [name=settlement]').value = `${found.items[0].name} (${found.items[0].postcode})`;
    }
  } catch {
    // Suggestions are a convenience: typing on works, and the submit says what is wrong.
  }
}

async function createTicket(form) {
  const error = form.querySelector('.error');
  const place = form.settlement.value.trim();
  const settlementId = place ? settlementIds.get(place) : null;
  if (place && !settlementId) {
    error.textContent = 'Выберите населённый пункт из подсказок (введите индекс или начало названия).';
    error.hidden = false;
    form.settlement.focus();
    return;
  }
  await submitting(form, async () => {
    const assignToMe = form.assign_to_me.checked;
    const ticket = await post('/api/tickets', {
      category: form.category.value,
      caller_number: form.caller_number.value.trim() || null,
      settlement_id: settlementId,
      address: form.address.value.trim() || null,
      description: form.description.value,
      assign_to_me: assignToMe,
    });
    ['description', 'address'].forEach((name) => dropDraft(`new-ticket.${name}`));
    form.description.value = '';
    form.address.value = '';
    notify(`Создана заявка № ${ticket.number}${assignToMe ? '' : ' и поставлена в очередь'}.`);
    if (assignToMe) {
      taken = taken || { item: null, ticket: null, history: [], answers: null, handMade: null };
      taken.handMade = await get(`/api/tickets/${ticket.id}`);
      saveTaken();
      renderCurrent();
    }
  });
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  $('#take-next').addEventListener('click', takeNext);
  $('#release').addEventListener('click', release);
  const on = (selector, handler) =>
    $(selector).addEventListener('submit', (event) => {
      event.preventDefault();
      handler(event.currentTarget);
    });
  on('#note-form', addNote);
  on('#wrapup-form', wrapUp);
  on('#operator-state', saveState);
  on('#new-ticket', createTicket);
  const note = $('#note-form [name=text]');
  note.addEventListener('input', () => {
    if (!note.dataset.draft) return;
    if (note.value) sessionStorage.setItem(`draft.${note.dataset.draft}`, note.value);
    else dropDraft(note.dataset.draft);
  });
  keepDraft($('#new-ticket [name=description]'), 'new-ticket.description');
  keepDraft($('#new-ticket [name=address]'), 'new-ticket.address');
  let lookup = null;
  $('#new-ticket [name=settlement]').addEventListener('input', (event) => {
    clearTimeout(lookup);
    lookup = setTimeout(() => lookUpSettlements(event.target.value), 250);
  });
}

export async function enter() {
  wire();
  const stored = sessionStorage.getItem(TAKEN);
  taken = stored ? JSON.parse(stored) : null;
  renderCurrent();
  await refresh();
  heartbeat = setInterval(() => post('/api/operators/me/heartbeat').catch(() => {}), HEARTBEAT_MS);
}

export function leave() {
  clearInterval(heartbeat);
  heartbeat = null;
}

export async function refresh() {
  try {
    await Promise.all([loadQueue(), loadMe()]);
    if (currentTicket()) await reloadTicket();
    renderCurrent();
  } catch (e) {
    notify(explainText(e), true);
  }
}

export function onEvent(event) {
  if (event.topic === 'queue') {
    reloadQueue();
    if (taken && taken.item && event.subject_id === taken.item.id) {
      taken.item = { ...taken.item, ...event.payload };
      saveTaken();
      renderCurrent();
    }
  } else if (event.topic === 'ticket') {
    const ticket = currentTicket();
    if (ticket && event.subject_id === ticket.id) reloadTicket().catch(() => {});
  } else if (event.topic === 'operator' && event.payload && event.payload.status === 'paused') {
    loadMe()
      .then(renderCurrent)
      .catch(() => {});
  }
}

export function onKey(key, event) {
  switch (key) {
    case 'Alt+N':
      takeNext();
      return true;
    case 'Alt+W':
      if (taken) wrapUp($('#wrapup-form'));
      else notify('Нечего завершать: возьмите обращение (Alt+N).', true);
      return true;
    case 'Alt+M':
      if (!$('#note-form').hidden) $('#note-form [name=text]').focus();
      return true;
    case 'Alt+T':
      $('#new-ticket [name=category]').focus();
      return true;
    case 'Ctrl+Enter':
    case 'Ctrl+NumpadEnter': {
      const form = event.target.closest && event.target.closest('form');
      if (form && view().contains(form)) form.requestSubmit();
      return Boolean(form);
    }
    default:
      return false;
  }
}
