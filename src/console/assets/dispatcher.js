// The dispatcher's view: open escalations (live) with their steps and who was notified,
// acknowledge, send a crew, resolve; incidents with status and restoration time; the crews board.

import { get, patch, post } from './api.js';
import {
  CALL_OUTCOME,
  CATEGORY,
  CHANNEL_OF_STEP,
  CREW_STATUS,
  DELIVERY,
  ESCALATION_STATE,
  INCIDENT_STATUS,
  TICKET_STATUS,
  explain,
  word,
} from './ru.js';
import {
  $,
  clearError,
  dropDraft,
  fill,
  fromLocalInput,
  h,
  notify,
  options,
  preserving,
  showError,
  throttle,
  toLocalInput,
  when,
} from './ui.js';

export const shortcuts = [
  ['Alt+A', 'принять первую неподтверждённую эскалацию'],
  ['Ctrl+Enter', 'отправить форму'],
];

// Delivery of e-mails changes without an event of its own: look again this often.
const POLL_MS = 30000;

let crews = null;
let escalations = [];
let incidents = [];
const tickets = new Map();
let poll = null;
// The number (as the API writes it, a string) of the ticket an e-mail's link (#ticket/N) asked
// for: shown above the escalations, its card marked.
let focusedNumber = null;

async function loadCrews() {
  try {
    crews = await get('/api/crews');
    clearError($('#crews-error'));
  } catch (e) {
    crews = null;
    showError($('#crews-error'), e);
  }
  renderCrews();
}

async function loadEscalations() {
  try {
    const all = await get('/api/escalations');
    // Unacknowledged first, newest first within each state.
    escalations = all
      .filter((e) => e.state !== 'resolved')
      .sort((a, b) => (a.state === b.state ? b.created_at.localeCompare(a.created_at) : a.state === 'active' ? -1 : 1));
    await Promise.all(
      escalations
        .filter((e) => !tickets.has(e.ticket_id))
        .map(async (e) => tickets.set(e.ticket_id, await get(`/api/tickets/${e.ticket_id}`).catch(() => null))),
    );
    clearError($('#escalations-error'));
  } catch (e) {
    showError($('#escalations-error'), e);
  }
  renderEscalations();
}

async function loadIncidents() {
  try {
    // A resolved incident stays on the board while callers still wait for its power-back call
    // (at night those calls wait for the morning).
    incidents = (await get('/api/incidents')).items.filter((i) => i.status !== 'resolved' || i.power_back_waiting > 0);
    clearError($('#incidents-error'));
  } catch (e) {
    showError($('#incidents-error'), e);
  }
  renderIncidents();
}

const reloadEscalations = throttle(loadEscalations, 500);
const reloadIncidents = throttle(loadIncidents, 500);
const reloadCrews = throttle(loadCrews, 500);

function crewName(id) {
  if (!id) return null;
  const crew = crews && crews.find((c) => c.id === id);
  return crew ? crew.name : 'бригада назначена';
}

/** A crew picker and its button; without the crews endpoint it says why it cannot be used. */
function crewPicker(key, onAssign) {
  if (!crews) return h('p', { class: 'muted' }, 'Назначение бригад недоступно: список бригад не загрузился.');
  const select = h(
    'select',
    { 'data-keep': `crew.${key}`, 'aria-label': 'Бригада' },
    h('option', { value: '' }, '— бригада —'),
    crews.filter((c) => c.status !== 'off_duty').map((c) => h('option', { value: c.id }, `${c.name} (${word(CREW_STATUS, c.status)})`)),
  );
  return h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (event) => {
        event.preventDefault();
        if (select.value) act(event.currentTarget, () => onAssign(select.value));
      },
    },
    select,
    h('button', { type: 'submit' }, 'Назначить бригаду'),
    h('p', { class: 'error', role: 'alert', hidden: true }),
  );
}

/** Runs a dispatcher's action from `form`; errors stay in the form, the typed text stays too. */
async function act(form, action) {
  const error = form.querySelector('.error');
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => (b.disabled = true));
  try {
    await action();
  } catch (e) {
    if (error) showError(error, e);
    else notify(explain(e), true);
    buttons.forEach((b) => (b.disabled = false));
    return;
  }
  await Promise.all([loadEscalations(), loadIncidents(), loadCrews()]);
}

/** One step of an escalation; a step that has not fired by the acknowledgement never will. */
function stepLine(step, active) {
  const fired = step.fired_at
    ? `сработал ${when(step.fired_at)}`
    : active
      ? `сработает ${when(step.due_at)}`
      : 'не понадобился';
  const notified = step.notifications || [];
  const calls = step.calls || [];
  return h(
    'li',
    { class: step.fired_at ? 'fired' : 'pending' },
    h('span', {}, `Шаг ${step.order} · ${word(CHANNEL_OF_STEP, step.channel)} · ${fired}`),
    calls.length ? h('ul', { class: 'calls' }, calls.map(callLine)) : null,
    notified.length
      ? h(
          'ul',
          { class: 'recipients' },
          notified.map((n) =>
            h(
              'li',
              { class: `delivery ${n.status}` },
              `${n.recipient.name} <${n.recipient.email}> — ${word(DELIVERY, n.status)}`,
              n.sent_at ? ` ${when(n.sent_at)}` : '',
              n.attempts > 1 ? `, попыток: ${n.attempts}` : '',
              n.last_error && n.status !== 'sent' ? h('span', { class: 'muted' }, ` (${n.last_error})`) : null,
            ),
          ),
        )
      : h(
          'div',
          { class: 'muted' },
          step.recipients && step.recipients.length
            ? `${step.fired_at ? 'Оповещены' : active ? 'Будут оповещены' : 'Не оповещались'}: ${step.recipients.map((r) => r.name).join(', ')}`
            : 'Получателей нет',
        ),
  );
}

/** A call the step placed: to whom, how it ended, and each attempt with the provider's answer. */
function callLine(call) {
  const tried = call.attempts || [];
  const last = tried[tried.length - 1];
  return h(
    'li',
    { class: `call ${call.status}` },
    `☎ ${call.recipient.name} ${call.phone} — ${word(CALL_OUTCOME, call.status)}`,
    call.answered_at ? ` ${when(call.answered_at)}` : '',
    tried.length > 1 ? `, попыток: ${tried.length}` : '',
    last && last.error ? h('span', { class: 'muted' }, ` (${last.error})`) : null,
  );
}

/** What happened where, in one line: category, place, address, description, the caller's phone. */
function ticketFacts(ticket) {
  const place = ticket.settlement ? `${ticket.settlement.name} (${ticket.settlement.postcode})` : 'место не указано';
  return h(
    'div',
    {},
    `${word(CATEGORY, ticket.category)} · ${place}`,
    ticket.address ? `, ${ticket.address}` : '',
    ` — ${ticket.description}`,
    ticket.caller_number ? h('span', { class: 'muted' }, ` · тел. ${ticket.caller_number}`) : null,
  );
}

function renderEscalations() {
  const list = $('#escalations');
  fill($('#escalation-count'), String(escalations.filter((e) => e.state === 'active').length));
  preserving(list, () => {
    if (!escalations.length) {
      fill(list, h('li', { class: 'muted' }, 'Открытых эскалаций нет.'));
      return;
    }
    fill(
      list,
      escalations.map((esc) => {
        const ticket = tickets.get(esc.ticket_id);
        const noteKey = `resolve.${esc.id}`;
        const note = h('input', {
          'data-keep': noteKey,
          placeholder: 'Что сделано',
          'aria-label': 'Итог',
          oninput: (event) => sessionStorage.setItem(`draft.${noteKey}`, event.target.value),
        });
        note.value = sessionStorage.getItem(`draft.${noteKey}`) || '';
        return h(
          'li',
          {
            class: `escalation ${esc.state}${esc.ticket_number === focusedNumber ? ' focused' : ''}`,
            'data-id': esc.id,
          },
          h(
            'div',
            { class: 'row' },
            h('strong', {}, `Заявка № ${esc.ticket_number}`),
            h('span', { class: `badge ${esc.state}` }, word(ESCALATION_STATE, esc.state)),
            h('span', { class: 'muted' }, `с ${when(esc.created_at)} · политика ${esc.policy}`),
          ),
          ticket ? ticketFacts(ticket) : null,
          h('ol', { class: 'steps' }, esc.steps.map((step) => stepLine(step, esc.state === 'active'))),
          esc.acknowledged_by ? h('div', {}, `Принял: ${esc.acknowledged_by}, ${when(esc.acknowledged_at)}`) : null,
          esc.crew_id ? h('div', {}, `Бригада: ${crewName(esc.crew_id)}`) : null,
          h(
            'div',
            { class: 'buttons' },
            esc.state === 'active'
              ? h(
                  'form',
                  {
                    class: 'inline-form',
                    onsubmit: (event) => {
                      event.preventDefault();
                      act(event.currentTarget, () => post(`/api/escalations/${esc.id}/ack`));
                    },
                  },
                  h('button', { type: 'submit', class: 'primary ack' }, 'Принять'),
                  h('p', { class: 'error', role: 'alert', hidden: true }),
                )
              : null,
            crewPicker(esc.id, (crewId) => post(`/api/escalations/${esc.id}/assign`, { crew_id: crewId })),
            h(
              'form',
              {
                class: 'inline-form',
                onsubmit: (event) => {
                  event.preventDefault();
                  if (!note.value.trim()) {
                    note.focus();
                    return;
                  }
                  act(event.currentTarget, async () => {
                    await post(`/api/escalations/${esc.id}/resolve`, { note: note.value });
                    dropDraft(noteKey);
                  });
                },
              },
              note,
              h('button', { type: 'submit', class: 'quiet' }, 'Закрыть'),
              h('p', { class: 'error', role: 'alert', hidden: true }),
            ),
          ),
        );
      }),
    );
  });
}

function renderIncidents() {
  const list = $('#incidents');
  preserving(list, () => {
    if (!incidents.length) {
      fill(list, h('li', { class: 'muted' }, 'Открытых аварий нет.'));
      return;
    }
    fill(
      list,
      incidents.map((incident) => {
        const status = h(
          'select',
          { 'data-keep': `status.${incident.id}`, 'aria-label': 'Статус' },
          options(['open', 'in_progress', 'resolved'], INCIDENT_STATUS, incident.status),
        );
        const etr = h('input', { type: 'datetime-local', 'data-keep': `etr.${incident.id}`, 'aria-label': 'Восстановление' });
        etr.value = toLocalInput(incident.etr);
        return h(
          'li',
          { class: 'incident', 'data-id': incident.id },
          h(
            'div',
            { class: 'row' },
            h('strong', {}, `${incident.settlement.name} (${incident.settlement.postcode})`),
            h('span', { class: `badge ${incident.status}` }, word(INCIDENT_STATUS, incident.status)),
            h('span', { class: 'muted' }, `сообщений: ${incident.reports} · с ${when(incident.opened_at)}`),
            incident.power_back_waiting
              ? h('span', { class: 'muted' }, `ждут звонка о восстановлении: ${incident.power_back_waiting}`)
              : '',
          ),
          h(
            'div',
            {},
            `Восстановление: ${incident.etr ? when(incident.etr) : 'не назначено'}`,
            incident.crew_id ? ` · бригада: ${crewName(incident.crew_id)}${incident.crew_status ? ` (${word(CREW_STATUS, incident.crew_status)})` : ''}` : '',
          ),
          h(
            'form',
            {
              class: 'inline-form',
              onsubmit: (event) => {
                event.preventDefault();
                act(event.currentTarget, () =>
                  patch(`/api/incidents/${incident.id}`, { status: status.value, etr: fromLocalInput(etr.value) }),
                );
              },
            },
            h('label', {}, 'Статус ', status),
            h('label', {}, 'Восстановление ', etr),
            h('button', { type: 'submit' }, 'Сохранить'),
            h('p', { class: 'error', role: 'alert', hidden: true }),
          ),
          crewPicker(`incident.${incident.id}`, (crewId) => post(`/api/incidents/${incident.id}/assign`, { crew_id: crewId })),
        );
      }),
    );
  });
}

function renderCrews() {
  const body = $('#crews tbody');
  if (!crews) {
    fill(body, h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'Нет данных о бригадах.')));
    return;
  }
  if (!crews.length) {
    fill(body, h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'Бригад пока нет — добавьте ниже.')));
    return;
  }
  fill(
    body,
    crews.map((crew) => {
      const select = h(
        'select',
        {
          'aria-label': `Статус бригады ${crew.name}`,
          onchange: async (event) => {
            try {
              await patch(`/api/crews/${crew.id}`, { status: event.target.value });
              notify(`${crew.name}: ${word(CREW_STATUS, event.target.value)}.`);
            } catch (e) {
              notify(explain(e), true);
            }
            reloadCrews();
          },
        },
        options(['available', 'en_route', 'on_site', 'off_duty'], CREW_STATUS, crew.status),
      );
      return h(
        'tr',
        { class: `crew ${crew.status}` },
        h('td', {}, crew.name),
        h('td', {}, crew.phone || '—'),
        h('td', {}, select),
        h('td', { class: 'muted' }, when(crew.updated_at)),
      );
    }),
  );
  // Names in the escalation and incident cards come from this list.
  renderEscalations();
  renderIncidents();
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  $('#new-crew').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const error = form.querySelector('.error');
    clearError(error);
    try {
      await post('/api/crews', {
        name: form.name.value,
        phone: form.phone.value.trim() || null,
        email: form.email.value.trim() || null,
      });
      form.reset();
      notify('Бригада добавлена.');
      await loadCrews();
    } catch (e) {
      showError(error, e);
    }
  });
}

/** Shows ticket `number` above the escalations and marks its card; `null` puts the panel away. */
export async function focusTicket(number) {
  focusedNumber = number;
  const panel = $('#focused-ticket');
  if (number === null) {
    panel.hidden = true;
    renderEscalations();
    return;
  }
  await loadEscalations();
  let ticket;
  try {
    ticket = await get(`/api/tickets/${number}`);
  } catch (e) {
    fill(panel, h('p', { class: 'error' }, `Заявка № ${number}: ${explain(e)}`));
    panel.hidden = false;
    return;
  }
  const open = escalations.find((e) => e.ticket_number === number);
  fill(
    panel,
    h(
      'div',
      { class: 'row' },
      h('strong', {}, `Заявка № ${ticket.number}`),
      h('span', { class: 'badge' }, word(TICKET_STATUS, ticket.status)),
      h('span', { class: 'muted' }, `поступила ${when(ticket.created_at)}`),
      h('button', { type: 'button', class: 'quiet', onclick: () => (location.hash = '') }, 'Скрыть'),
    ),
    ticketFacts(ticket),
    h('p', { class: 'muted' }, open ? 'Эскалация по заявке — ниже, отмечена.' : 'Открытой эскалации по заявке нет.'),
  );
  panel.hidden = false;
  const card = $('#escalations .escalation.focused');
  if (card) card.scrollIntoView({ block: 'nearest' });
}

export async function enter() {
  wire();
  await refresh();
  poll = setInterval(reloadEscalations, POLL_MS);
}

export function leave() {
  clearInterval(poll);
  poll = null;
}

export async function refresh() {
  await loadCrews();
  await Promise.all([loadEscalations(), loadIncidents()]);
}

export function onEvent(event) {
  if (event.topic === 'escalation') reloadEscalations();
  else if (event.topic === 'incident') reloadIncidents();
  else if (event.topic === 'crew') reloadCrews();
}

export function onKey(key, event) {
  if (key === 'Alt+A') {
    const button = $('#escalations .escalation.active button.ack');
    if (button) button.click();
    else notify('Неподтверждённых эскалаций нет.');
    return true;
  }
  if (key === 'Ctrl+Enter') {
    const form = event.target.closest && event.target.closest('form');
    if (form) form.requestSubmit();
    return Boolean(form);
  }
  return false;
}
