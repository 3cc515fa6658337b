// The supervisor's view: today's queue figures (live), the storm-mode switch, and the upload of
// planned outages from CSV with every refused line shown by its number.

import { call, get, put } from './api.js';
import { CATEGORY, ITEM_KIND, OPERATOR_STATUS, explain, lineReason, word } from './ru.js';
import { $, clearError, duration, fill, h, notify, percent, showError, submitting, throttle, when } from './ui.js';

export const shortcuts = [['Alt+S', 'включить или выключить «шторм»']];

// The oldest wait grows by itself between events: look again this often.
const TICK_MS = 10000;

let tick = null;
let storm = null;

const FIGURES = [
  ['waiting', 'Ждут в очереди', (m) => m.waiting],
  ['oldest_wait', 'Дольше всех ждёт', (m) => duration(m.oldest_wait_s)],
  ['answered', 'Принято звонков', (m) => m.answered],
  ['service_level', 'Уровень обслуживания (20 с)', (m) => percent(m.service_level)],
  ['asa', 'Среднее ожидание ответа', (m) => duration(m.average_speed_of_answer_s)],
  ['abandoned', 'Не дождались', (m) => (m.abandon_rate === null ? m.abandoned : `${m.abandoned} (${percent(m.abandon_rate)})`)],
  ['handle', 'Среднее время обращения', (m) => duration(m.average_handle_s)],
  ['callbacks', 'Ждут обратного звонка', (m) => m.callbacks_pending],
  ['containment', 'Решено в голосовом меню', (m) => percent(m.ivr_containment)],
  ['escalations', 'Эскалации без ответа', (m) => m.escalations_active],
  ['undelivered', 'Неотправленные письма', (m) => m.messages_undelivered],
];

async function loadMetrics() {
  try {
    const [metrics, queue] = await Promise.all([get('/api/metrics'), get('/api/queue')]);
    clearError($('#metrics-error'));
    fill(
      $('#metrics'),
      FIGURES.map(([key, label, value]) =>
        h(
          'div',
          { class: `figure ${key === 'escalations' && metrics.escalations_active > 0 ? 'alarm' : ''}`, 'data-metric': key },
          h('span', { class: 'value' }, String(value(metrics))),
          h('span', { class: 'label' }, label),
        ),
      ),
    );
    fill(
      $('#operators'),
      metrics.operators.length
        ? metrics.operators.map((o) => h('li', {}, `${word(OPERATOR_STATUS, o.status)}: ${o.count}`))
        : h('li', { class: 'muted' }, 'Операторов в сети нет.'),
    );
    fill(
      $('#supervisor-queue'),
      queue.items.length
        ? queue.items.map((item) =>
            h(
              'li',
              { class: `p${item.priority}` },
              `${item.position}. ${word(ITEM_KIND, item.kind)} · ${word(CATEGORY, item.category)} · с ${when(item.enqueued_at)}`,
            ),
          )
        : h('li', { class: 'muted' }, 'Очередь пуста.'),
    );
  } catch (e) {
    showError($('#metrics-error'), e);
  }
}

async function loadStorm() {
  try {
    storm = await get('/api/storm-mode');
    clearError($('#storm-error'));
  } catch (e) {
    showError($('#storm-error'), e);
    return;
  }
  const why = storm.manual
    ? 'включён руководителем'
    : storm.on
      ? `включился сам: открытых аварий ${storm.open_incidents}, порог ${storm.threshold}`
      : `открытых аварий ${storm.open_incidents}, сам включится при ${storm.threshold}`;
  fill(
    $('#storm-state'),
    h('strong', { class: storm.on ? 'alarm-text' : '' }, storm.on ? 'Включён' : 'Выключен'),
    ` — ${why}. В режиме «шторм» звонящие слышат, что линия перегружена, опасности обслуживаются первыми, остальным предлагается обратный звонок.`,
  );
  // Off hands storm mode back to the threshold; it stays on while the incidents are over it.
  fill($('#storm-toggle'), storm.manual ? 'Выключить «шторм»' : 'Включить «шторм»', ' ', h('kbd', {}, 'Alt+S'));
}

const reloadMetrics = throttle(loadMetrics, 1000);
const reloadStorm = throttle(loadStorm, 1000);

async function toggleStorm() {
  if (!storm) return;
  const button = $('#storm-toggle');
  button.disabled = true;
  try {
    await put('/api/storm-mode', { on: !storm.manual });
    await loadStorm();
    notify(storm.manual ? 'Режим «шторм» включён.' : 'Ручной «шторм» выключен.');
  } catch (e) {
    showError($('#storm-error'), e);
  } finally {
    button.disabled = false;
  }
}

async function importPlanned(form) {
  const file = form.file.files[0];
  if (!file) return;
  const result = $('#import-result');
  const table = $('#import-errors');
  fill(result);
  table.hidden = true;
  await submitting(form, async () => {
    const text = await file.text();
    try {
      const answer = await call('POST', '/api/planned-outages/import', text, 'text/csv; charset=utf-8');
      fill(result, `Загружено плановых отключений: ${answer.imported}.`);
      notify('Файл загружен.');
    } catch (e) {
      if (!e.details || !e.details.length) throw e;
      fill(result, h('span', { class: 'bad-text' }, explain(e)), ' Исправьте строки и загрузите файл снова.');
      fill(
        table.querySelector('tbody'),
        e.details.map((d) => h('tr', {}, h('td', {}, String(d.line)), h('td', { title: d.message }, lineReason(d.message)))),
      );
      table.hidden = false;
    }
  });
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  $('#storm-toggle').addEventListener('click', toggleStorm);
  $('#import-form').addEventListener('submit', (event) => {
    event.preventDefault();
    importPlanned(event.currentTarget);
  });
}

export async function enter() {
  wire();
  await refresh();
  tick = setInterval(reloadMetrics, TICK_MS);
}

export function leave() {
  clearInterval(tick);
  tick = null;
}

export async function refresh() {
  await Promise.all([loadMetrics(), loadStorm()]);
}

export function onEvent(event) {
  if (['queue', 'operator', 'escalation', 'ticket'].includes(event.topic)) reloadMetrics();
  if (event.topic === 'switch' || event.topic === 'incident') reloadStorm();
}

export function onKey(key) {
  if (key === 'Alt+S') {
    toggleStorm();
    return true;
  }
  return false;
}
