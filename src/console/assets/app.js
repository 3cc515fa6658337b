// The console's entry point: login and logout, which views a role gets, live events, shortcuts.

import { call, live, session, whenSessionLost } from './api.js';
import { ROLE } from './ru.js';
import { $, fill, h, notify, showError, submitting } from './ui.js';
import * as operator from './operator.js';
import * as dispatcher from './dispatcher.js';
import * as supervisor from './supervisor.js';

const VIEWS = {
  operator: { title: 'Оператор', module: operator, element: '#operator-view' },
  dispatcher: { title: 'Диспетчер', module: dispatcher, element: '#dispatcher-view' },
  supervisor: { title: 'Руководитель смены', module: supervisor, element: '#supervisor-view' },
};

// A role may act where the API lets it; supervisors and admins also look at the dispatchers' board.
const VIEWS_OF_ROLE = {
  operator: ['operator'],
  dispatcher: ['dispatcher'],
  supervisor: ['supervisor', 'dispatcher'],
  admin: ['supervisor', 'dispatcher'],
};

let current = null;
let stopLive = null;

function showOnly(selector) {
  for (const main of document.querySelectorAll('main')) main.hidden = `#${main.id}` !== selector;
}

function showLogin() {
  if (stopLive) stopLive();
  stopLive = null;
  if (current) current.module.leave();
  current = null;
  $('#top').hidden = true;
  $('#shortcuts').hidden = true;
  showOnly('#login-view');
  $('#login [name=username]').focus();
}

function open(viewName) {
  if (current) current.module.leave();
  current = VIEWS[viewName];
  for (const tab of document.querySelectorAll('#tabs button')) {
    tab.setAttribute('aria-current', tab.dataset.view === viewName ? 'page' : 'false');
  }
  showOnly(current.element);
  const keys = current.module.shortcuts;
  fill($('#shortcuts'), keys.map(([key, what]) => h('span', {}, h('kbd', {}, key), ` ${what}`)));
  $('#shortcuts').hidden = keys.length === 0;
  sessionStorage.setItem('hotline.view', viewName);
  current.module.enter();
}

/** Follows a link into the console (`#ticket/N`, from an escalation e-mail) where the role can. */
function followLink() {
  const match = /^#ticket\/(\d+)$/.exec(location.hash);
  const number = match ? match[1] : null;
  if (!(VIEWS_OF_ROLE[session.user.role] || []).includes('dispatcher')) {
    if (number !== null) notify(`Заявка № ${number} открывается на вкладке «Диспетчер», её у вас нет.`, true);
    return;
  }
  if (number !== null && current !== VIEWS.dispatcher) open('dispatcher');
  dispatcher.focusTicket(number);
}

function start() {
  const user = session.user;
  const views = VIEWS_OF_ROLE[user.role] || [];
  $('#top').hidden = false;
  fill($('#who'), `${user.username} · ${ROLE[user.role] || user.role}`);
  fill(
    $('#tabs'),
    views.map((name) => h('button', { type: 'button', 'data-view': name, onclick: () => open(name) }, VIEWS[name].title)),
  );
  const remembered = sessionStorage.getItem('hotline.view');
  open(views.includes(remembered) ? remembered : views[0]);
  if (location.hash) followLink();
  stopLive = live(
    (event) => current && current.module.onEvent(event),
    (state) => {
      const badge = $('#live');
      badge.textContent = state === 'live' ? 'онлайн' : 'нет связи, переподключение…';
      badge.classList.toggle('bad', state !== 'live');
      // After a gap, reload everything the view shows: the events missed may be gone.
      if (state === 'live' && current) current.module.refresh();
    },
  );
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  await submitting(form, async () => {
    try {
      const answer = await call('POST', '/api/auth/login', {
        username: form.username.value.trim(),
        password: form.password.value,
      });
      session.save(answer.token, answer.user);
    } catch (e) {
      if (e.status === 401) {
        const error = form.querySelector('.error');
        showError(error, e);
        error.textContent = 'Неверное имя пользователя или пароль.';
        return;
      }
      throw e;
    }
    form.password.value = '';
    start();
  });
});

$('#logout').addEventListener('click', async () => {
  try {
    await call('POST', '/api/auth/logout');
  } catch {
    // Logging out of a dead session or an unreachable server still ends it here.
  }
  session.clear();
  showLogin();
});

whenSessionLost(() => {
  session.clear();
  showLogin();
  const error = $('#login .error');
  error.textContent = 'Сеанс закончился. Войдите снова — несохранённые черновики заметок сохранены.';
  error.hidden = false;
});

window.addEventListener('hashchange', () => current && followLink());

// Shortcuts use the physical key (event.code), so they work in the Russian layout too.
document.addEventListener('keydown', (event) => {
  if (!current) return;
  const key = `${event.ctrlKey ? 'Ctrl+' : ''}${event.altKey ? 'Alt+' : ''}${event.code.replace(/^Key/, '')}`;
  if (current.module.onKey(key, event)) event.preventDefault();
});

if (session.token && session.user) start();
else showLogin();
