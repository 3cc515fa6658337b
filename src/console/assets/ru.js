// Russian words for the API's codes, and API errors explained to the person at the console.

export const CATEGORY = {
  hazard: 'Опасность',
  outage: 'Нет света',
  theft: 'Хищение',
  connection: 'Техприсоединение',
  callback: 'Обратный звонок',
  question: 'Вопрос',
  appeal: 'Обращение',
};

export const TICKET_STATUS = {
  new: 'новая',
  queued: 'в очереди',
  in_progress: 'в работе',
  escalated: 'эскалирована',
  resolved: 'решена',
  closed: 'закрыта',
  cancelled: 'отменена',
};

export const CHANNEL = { phone: 'телефон', web: 'интернет-приёмная', operator: 'оператор' };

export const ITEM_KIND = { live_call: 'Звонок на линии', callback: 'Перезвонить', ticket: 'Заявка' };

export const ITEM_STATE = {
  waiting: 'ждёт',
  assigned: 'у оператора',
  done: 'завершено',
  abandoned: 'абонент положил трубку',
  cancelled: 'отменено',
};

export const OPERATOR_STATUS = {
  available: 'На линии',
  paused: 'Перерыв',
  offline: 'Не в сети',
  wrap_up: 'Завершение обращения',
};

export const DISPOSITION = {
  resolved: 'Вопрос решён',
  outage_logged: 'Отключение зарегистрировано',
  hazard_dispatched: 'Опасность передана диспетчеру',
  theft_report: 'Сообщение о хищении принято',
  connection_info: 'Консультация по техприсоединению',
  callback_needed: 'Нужен обратный звонок',
  duplicate: 'Повторное обращение',
  wrong_number: 'Ошибся номером',
  prank: 'Ложный вызов',
};

export const ESCALATION_STATE = { active: 'ждёт подтверждения', acknowledged: 'принята', resolved: 'закрыта' };

export const DELIVERY = { pending: 'ожидает отправки', sent: 'отправлено', failing: 'ошибка доставки' };

export const CHANNEL_OF_STEP = { email: 'e-mail', sms: 'SMS', call: 'звонок и e-mail' };

/** Where a call the hotline placed stands (SPEC §8). */
export const CALL_OUTCOME = {
  pending: 'ожидает звонка',
  placed: 'звонит',
  answered: 'ответил, не принял',
  acknowledged: 'принял по телефону',
  busy: 'занято',
  'no-answer': 'не ответил',
  failed: 'не дозвонились',
  canceled: 'звонок отменён',
  refused: 'провайдер не принял звонок',
  dropped: 'не понадобился',
};

export const INCIDENT_STATUS = { open: 'открыта', in_progress: 'бригада работает', resolved: 'устранена' };

export const CREW_STATUS = {
  available: 'свободна',
  en_route: 'в пути',
  on_site: 'на месте',
  off_duty: 'не на смене',
};

export const ROLE = { operator: 'оператор', dispatcher: 'диспетчер', supervisor: 'руководитель смены', admin: 'администратор' };

// The IVR's menus by the node that asked, so the operator reads the caller's path in words.
const IVR_NODE = {
  'main.menu': 'Главное меню',
  'main.offer_callback': 'Предложение перезвонить',
  'location.same_place': 'Тот же населённый пункт?',
  'location.ask': 'Индекс или населённый пункт',
  'location.ask_again': 'Индекс (повторно)',
  'location.choose': 'Выбор населённого пункта',
  'hazard.kind': 'Что случилось',
  'outage.known_offer': 'Известное отключение',
  'outage.offer': 'Сообщить об отключении',
  'outage.schedule_menu': 'Плановые отключения',
  'connection.start': 'Техприсоединение',
  'connection.status': 'Номер заявки',
  'connection.status_unknown': 'Заявка не найдена',
};

// What each key of the main menu means (SPEC §4).
const MAIN_MENU = {
  1: 'опасность',
  2: 'нет света',
  3: 'плановые отключения',
  4: 'техприсоединение',
  5: 'хищение',
  0: 'оператор',
  '*': 'повтор',
};

export function ivrStep(answer) {
  const question = IVR_NODE[answer.node] || answer.node;
  if (answer.input === null || answer.input === undefined) return `${question}: молчание`;
  const meaning = answer.node === 'main.menu' && MAIN_MENU[answer.input] ? ` (${MAIN_MENU[answer.input]})` : '';
  return `${question}: ${answer.input}${meaning}`;
}

export function word(dictionary, code) {
  return (code && dictionary[code]) || code || '—';
}

/** An error from the API (or from the network), with a Russian explanation for the person at the console. */
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// The server's English reasons for a refused field, in Russian; the first match wins.
const REASONS = [
  [/disposition/, 'Выберите итог обращения из списка.'],
  [/pausing needs a reason/, 'Для перерыва укажите причину.'],
  [/contact/, 'Контакт: телефон в формате +7… или SIP-адрес вида sip:имя@сервер.'],
  [/caller_number/, 'Номер абонента не похож на телефонный номер.'],
  [/description/, 'Опишите обращение: поле не может быть пустым.'],
  [/^text|note/, 'Текст заметки не может быть пустым и должен быть короче 4000 знаков.'],
  [/etr/, 'Время восстановления указано неверно.'],
  [/settlement/, 'Такого населённого пункта нет в справочнике.'],
  [/priority/, 'Приоритет — число от 1 до 4.'],
  [/email/, 'Адрес e-mail указан неверно.'],
  [/name/, 'Укажите название.'],
];

// The server's reasons for a refused CSV line, in Russian.
const LINE_REASONS = [
  [/the header must be: (.*)/, (m) => `первая строка должна быть заголовком: ${m[1]}`],
  [/no settlement '(.*)' with postcode (\d*)/, (m) => `нет населённого пункта «${m[1]}» с индексом ${m[2]}`],
  [/starts_at: '(.*)' is not an ISO 8601 time.*/, (m) => `начало «${m[1]}» — не время вида 2026-11-28T09:00`],
  [/ends_at: '(.*)' is not an ISO 8601 time.*/, (m) => `окончание «${m[1]}» — не время вида 2026-11-28T09:00`],
  [/ends_at must be after starts_at/, () => 'окончание раньше начала'],
  [/expected (\d+) fields, found (\d+)/, (m) => `нужно полей: ${m[1]}, а в строке: ${m[2]}`],
  [/(streets|reason) is longer than 1000 characters/, (m) => `поле ${m[1]} длиннее 1000 знаков`],
  [/the file has no (.*)/, () => 'в файле нет ни одной строки с данными'],
  [/unreadable row/, () => 'строку не удалось прочитать'],
];

/** One refused CSV line, in Russian: each of its reasons translated where known. */
export function lineReason(message) {
  return message
    .split('; ')
    .map((part) => {
      for (const [pattern, say] of LINE_REASONS) {
        const match = part.match(pattern);
        if (match) return say(match);
      }
      return part;
    })
    .join('; ');
}

/** What went wrong, in plain Russian. */
export function explain(error) {
  if (!(error instanceof ApiError)) return 'Непредвиденная ошибка в консоли. Обновите страницу; введённый текст сохранён.';
  if (error.status === 0) return 'Нет связи с сервером. Проверьте сеть и повторите — введённое не потеряно.';
  if (error.status === 404 && error.message === 'no such endpoint') {
    return 'Сервер пока не поддерживает эту функцию (нужно обновление сервера).';
  }
  switch (error.code) {
    case 'unauthorized':
      return 'Сеанс закончился или вход не выполнен. Войдите снова.';
    case 'forbidden':
      return /handled by/.test(error.message)
        ? 'Этой заявкой занимается другой сотрудник.'
        : 'У вашей роли нет права на это действие.';
    case 'not_found':
      return 'Запись не найдена: возможно, её уже удалили или номер набран с ошибкой.';
    case 'conflict':
      return 'Действие невозможно: запись уже изменилась (например, её взял коллега или звонок завершился). Данные обновлены.';
    case 'invalid': {
      if (error.details.length) return `Файл не принят: ошибок в строках — ${error.details.length}. Ничего не загружено.`;
      for (const [pattern, say] of REASONS) if (pattern.test(error.message)) return say;
      return 'Проверьте заполнение формы.';
    }
    case 'payload_too_large':
      return 'Слишком большой объём данных: сократите текст или разделите файл.';
    case 'unsupported_media_type':
    case 'malformed_json':
    case 'bad_request':
    case 'bad_query':
      return 'Сервер не понял запрос. Обновите страницу; если не поможет, сообщите администратору.';
    case 'method_not_allowed':
      return 'Сервер пока не поддерживает эту функцию (нужно обновление сервера).';
    case 'unavailable':
      return 'Сервер временно недоступен (база данных). Повторите через минуту.';
    default:
      return 'Ошибка на сервере. Повторите; если не поможет, сообщите администратору.';
  }
}
