// The words the handler puts into the pages' data (cells, choices, the summary line, error
// messages) in English and Russian. Column headers, field names, hints, buttons and the texts of
// the raw keys in type="msg" columns (a license's state, a finding's kind) are in
// etc/xml/billmgr_mod_pmisplicense_panel.xml, where COREmanager looks them up.
import type { AdviceReport } from '../advise/advise.js';
import type { PeriodRuleError } from '../pool/periods.js';
import type { Lang } from './request.js';

type Pair = { en: string; ru: string };

const PERIOD: Record<string, Pair> = {
  '1': { en: '1 month', ru: '1 месяц' },
  '3': { en: '3 months', ru: '3 месяца' },
  '6': { en: '6 months', ru: '6 месяцев' },
  '12': { en: '1 year', ru: '1 год' },
  '24': { en: '2 years', ru: '2 года' },
  '36': { en: '3 years', ru: '3 года' },
  '0': { en: 'Lifetime', ru: 'Бессрочно' },
  '-100': { en: 'Trial', ru: 'Пробный' },
  '-50': { en: 'Day', ru: 'День' },
};

export function periodLabel(p: number, lang: Lang): string {
  return PERIOD[String(p)]?.[lang] ?? String(p);
}

const WORDS = {
  allTariffs: { en: 'All tariff plans', ru: 'Все тарифные планы' },
  releasingFrom: { en: 'Not yet: its release from service', ru: 'Пока нет: не завершено освобождение от услуги' },
  lifetime: { en: 'Lifetime', ru: 'Бессрочно' },
  now: { en: 'Now', ru: 'Сейчас' },
  unknownExpiry: { en: 'Not yet: its paid time is not known (maintain reads it)', ru: 'Пока нет: срок оплаты неизвестен (его прочитает maintain)' },
  expired: { en: 'Never: its paid time has run out', ru: 'Никогда: оплаченный срок истёк' },
  inUse: { en: 'In use by service', ru: 'Используется услугой' },
  leftPool: { en: 'Left the pool', ru: 'Выбыла из пула' },
} satisfies Record<string, Pair>;

export function word(k: keyof typeof WORDS, lang: Lang): string {
  return WORDS[k][lang];
}

/** "From 2026-02-10: IP changed on 2026-01-10; key changed on …". */
export function reusableFrom(date: string, ipChange: string | null, keyChange: string | null, lang: Lang): string {
  const why: string[] = [];
  if (ipChange) why.push(lang === 'ru' ? `IP изменён ${ipChange}` : `IP changed on ${ipChange}`);
  if (keyChange) why.push(lang === 'ru' ? `ключ изменён ${keyChange}` : `key changed on ${keyChange}`);
  const reason = why.length ? `: ${why.join('; ')}${lang === 'ru' ? ' (одно изменение в календарный месяц)' : ' (one change per calendar month)'}` : '';
  return lang === 'ru' ? `С ${date}${reason}` : `From ${date}${reason}`;
}

/** The summary banner's id: also the name of its message in the pool list's messages (XML). */
export const POOL_SUMMARY_ID = 'pmisplicense_pool_summary';

/** The summary line with its __name__ placeholders, as in the XML message `pmisplicense_pool_summary`
 *  (test/panel/xml.test.ts checks that the two are the same). */
export const POOL_SUMMARY: Readonly<Pair> = {
  en: 'Licenses in the pool: __licenses__ (lifetime: __lifetime__); paid days they hold: __paiddays__; re-uses so far (purchases avoided): __reuses__.',
  ru: 'Лицензий в пуле: __licenses__ (из них бессрочных: __lifetime__); оплаченных дней в них: __paiddays__; повторных использований (покупок не понадобилось): __reuses__.',
};

/** A banner text with its __name__ placeholders filled (COREmanager's banner convention). */
export function fillPlaceholders(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(/__([a-z_]+?)__/g, (whole, k: string) => (k in params ? String(params[k]) : whole));
}

export function poolSummary(figures: Readonly<Record<string, number>>, lang: Lang): string {
  return fillPlaceholders(POOL_SUMMARY[lang], figures);
}

/** Error texts the panel itself produces, with {0}… placeholders. */
const ERR = {
  access: { en: 'Only an administrator of BILLmanager can open the license pages.', ru: 'Страницы лицензий доступны только администратору BILLmanager.' },
  func: { en: 'Unknown function "{0}" of the license pages.', ru: 'Неизвестная функция страниц лицензий: «{0}».' },
  moduleId: { en: 'Select one processing module in the list (got "{0}").', ru: 'Выберите в списке один модуль обработки (получено «{0}»).' },
  moduleMissing: { en: 'Processing module {0} was not found in BILLmanager.', ru: 'Модуль обработки {0} не найден в BILLmanager.' },
  moduleOther: { en: 'Processing module {0} is a "{1}" module, not ISPsystem licenses (pmisplicense): its rules and pool are not kept here.', ru: 'Модуль обработки {0} — модуль «{1}», а не «Лицензии ISPsystem (pmisplicense)»: его правил и пула здесь нет.' },
  elid: { en: 'Invalid selection "{0}": expected ids such as 1, 2, 3.', ru: 'Неверный выбор «{0}»: ожидаются номера, например 1, 2, 3.' },
  license: { en: 'Select a license to adopt (got "{0}").', ru: 'Выберите лицензию для принятия в пул (получено «{0}»).' },
  finding: { en: 'Invalid finding "{0}": expected kind:license:service.', ru: 'Неверная находка «{0}»: ожидается вид:лицензия:услуга.' },
  findingGone: { en: 'Finding {0} no longer holds: refresh the list; nothing was applied.', ru: 'Находка {0} больше не подтверждается: обновите список; ничего не применено.' },
  findingInfo: { en: 'Finding {0} is information only: there is no fix to apply (Adopt takes an unmanaged license; sync_item refreshes a drift); nothing was applied.', ru: 'Находка {0} — только сведения, исправлять нечего («Принять в пул» забирает лицензию вне модуля, sync_item устраняет расхождение); ничего не применено.' },
  applyFailed: { en: 'Some fixes were not applied: {0}', ru: 'Часть исправлений не применена: {0}' },
  source_missing: { en: 'Select the source period.', ru: 'Выберите исходный период.' },
  target_missing: { en: 'Select the period to change into: 1 month, 1 year or lifetime.', ru: 'Выберите период, на который заменить: 1 месяц, 1 год или бессрочно.' },
  source_invalid: { en: '"{0}" is not a BILLmanager period code (1, 3, 6, 12, 24, 36, 0, -100, -50).', ru: '«{0}» — не код периода BILLmanager (1, 3, 6, 12, 24, 36, 0, -100, -50).' },
  target_invalid: { en: '"{0}" is not a license order period: licenses are sold for 1 month, 1 year or lifetime.', ru: '«{0}» — не период заказа лицензии: лицензии продаются на 1 месяц, 1 год или бессрочно.' },
  scope_half: { en: 'A rule for one tariff plan needs both the product type and the tariff plan.', ru: 'Правилу для одного тарифного плана нужны и тип продукта, и тарифный план.' },
  pricelist_invalid: { en: 'Select a tariff plan (got "{0}").', ru: 'Выберите тарифный план (получено «{0}»).' },
  itemtype_invalid: { en: 'Select a product type (got "{0}").', ru: 'Выберите тип продукта (получено «{0}»).' },
  duplicate: { en: 'Rule {1} already exists for this source period and scope; change or delete it instead.', ru: 'Правило {1} для этого исходного периода и области уже есть; измените или удалите его.' },
  no_rule: { en: 'There is no period rule {0} in this module.', ru: 'В этом модуле нет правила периодов {0}.' },
} satisfies Record<string, Pair>;

export type PanelErrorText = keyof typeof ERR;

export function errorText(k: PanelErrorText, lang: Lang, ...args: Array<string | number>): string {
  return ERR[k][lang].replace(/\{(\d)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}

export function ruleErrorText(e: PeriodRuleError, lang: Lang): string {
  // English keeps the shared message (the same as the CLI's); Russian is the translation.
  if (lang === 'en') return e.message;
  return errorText(e.problem, lang, e.value, e.ruleId ?? '');
}

const TYPE_RU: Record<string, string> = {
  value: 'Неверные данные',
  auth: 'Сервер лицензий отклонил логин или пароль',
  upstream: 'Сервер лицензий отклонил запрос',
  connection: 'Сервер лицензий недоступен',
  missed: 'Лицензия не найдена',
  host: 'Ошибка обращения к BILLmanager',
  state: 'Файл состояния модуля недоступен',
  busy: 'Модуль занят этой услугой',
  internal: 'Внутренняя ошибка модуля',
};

/** A module error's message for the page: Russian gets a translated lead and the details as they are. */
export function moduleErrorText(type: string, message: string, lang: Lang): string {
  if (lang === 'en') return message;
  return `${TYPE_RU[type] ?? 'Ошибка'}: ${message}`;
}

/** The tariff as the licensing server names it (kept from its replies), beside its id; the id
 *  alone where it gave no name: the module keeps no list of tariffs of its own (SPEC 1). */
export function tariffLabel(pricelist: string, name = ''): string {
  return name ? `${name} (${pricelist})` : `#${pricelist}`;
}

/** The ids of the pool page's banners beside the summary (issue 16): the re-uses' value, the advice. */
export const POOL_VALUE_ID = 'pmisplicense_pool_value';
export const POOL_ADVICE_ID = 'pmisplicense_pool_advice';

function moneyText(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

/** What the re-uses saved: each one an order that was not placed, at today's prices. */
export function poolValue(reuses: number, cents: number, unpriced: number, currency: string, lang: Lang): string {
  const rest = unpriced > 0 ? (lang === 'ru' ? ` (ещё ${unpriced} — цена неизвестна)` : ` (${unpriced} more at an unknown price)`) : '';
  return lang === 'ru'
    ? `Повторные использования избавили от ${reuses} покупок на ${moneyText(cents, currency)} по сегодняшним ценам${rest}.`
    : `Re-uses avoided ${reuses} purchases worth ${moneyText(cents, currency)} at today's prices${rest}.`;
}

/** The advice line in Russian (src/advise/advise.ts adviceLine() is the English one). */
export function adviceLineRu(r: AdviceReport, currency: string): string {
  const m = (c: number) => moneyText(c, currency);
  if (r.services === 0) return `Совет по периодам: история услуг ещё не записана (pmisplicense advise --module ${r.module}).`;
  const now = r.candidates.find((c) => c.key === 'current');
  const head = `Совет по периодам (${r.from} – ${r.to}, услуг: ${r.services}): с нынешними правилами было бы потрачено ${m(now?.spend.cents ?? 0)}, оптимум — ${m(r.optimum.cents)}`;
  if (r.recommended.keep) return `${head}; никакой другой набор правил не дешевле: оставьте их.`;
  const best = r.candidates.find((c) => c.key === r.recommended.key);
  return `${head}; «${r.recommended.name}» — ${m(best?.spend.cents ?? 0)} (на ${m(r.recommended.savesCents)} меньше): команды даст pmisplicense advise --module ${r.module}.`;
}
