/*
 * i18n.js — every string of the dashboard's interface, in English and
 * Russian, in one table (tests/http/dashboard.js checks that each key has
 * both and that every key the code uses is here).  "{0}", "{1}" are
 * replaced by t()'s further arguments.  Data (service names, targets,
 * reasons) is shown as the API gives it.
 */
export const STRINGS = {
	"title": {en: "Zond — where in Russia is what blocked", ru: "Зонд — что и где заблокировано в России"},
	"loading": {en: "loading…", ru: "загрузка…"},
	"updated": {en: "updated {0} UTC", ru: "обновлено {0} UTC"},
	"mode.public": {en: "public view: an area is shown only when at least {0} agents stand behind it", ru: "публичный вид: область видна, только если за ней не меньше {0} агентов"},
	"mode.operator": {en: "operator view", ru: "вид оператора"},

	"view.map": {en: "Map", ru: "Карта"},
	"view.matrix": {en: "Services × regions", ru: "Сервисы × регионы"},
	"view.isp": {en: "Providers", ru: "Провайдеры"},
	"view.timeline": {en: "Timeline", ru: "Хронология"},
	"view.events": {en: "Events", ru: "События"},
	"view.agents": {en: "Agents", ru: "Агенты"},
	"view.explorer": {en: "Measurements", ru: "Измерения"},

	"ctl.service": {en: "Service", ru: "Сервис"},
	"ctl.service.default": {en: "(default)", ru: "(по умолчанию)"},
	"ctl.service.calls": {en: "any call service", ru: "любые звонки"},
	"ctl.window": {en: "Window", ru: "Период"},
	"ctl.pause": {en: "Pause", ru: "Пауза"},
	"ctl.resume": {en: "Resume", ru: "Продолжить"},
	"ctl.refresh": {en: "The view updates itself every 30 seconds", ru: "Вид обновляется сам каждые 30 секунд"},
	"hours.1": {en: "last hour", ru: "последний час"},
	"hours.6": {en: "last 6 hours", ru: "последние 6 часов"},
	"hours.24": {en: "last 24 hours", ru: "последние 24 часа"},
	"hours.168": {en: "last 7 days", ru: "последние 7 дней"},

	"token.ask": {en: "This aggregator's operator view needs its access token.", ru: "Для вида оператора этого агрегатора нужен токен доступа."},
	"token.bad": {en: "The token was refused; enter it again.", ru: "Токен не принят; введите его ещё раз."},
	"token.label": {en: "Token", ru: "Токен"},
	"token.ok": {en: "Open", ru: "Открыть"},

	"state.ok": {en: "open", ru: "доступен"},
	"state.blocked": {en: "blocked", ru: "заблокирован"},
	"state.throttled": {en: "throttled", ru: "замедлен"},
	"state.down": {en: "down everywhere", ru: "не работает везде"},
	"state.partial": {en: "blocked by some providers", ru: "заблокирован у части провайдеров"},
	"state.geoblocked": {en: "refused by the site", ru: "сайт сам отказывает"},
	"state.filtered": {en: "filtered (not the state)", ru: "фильтр (не государство)"},
	"state.review": {en: "under review", ru: "на проверке"},
	"state.whitelist": {en: "whitelist regime", ru: "режим белых списков"},
	"state.shutdown": {en: "Internet shut down", ru: "Интернет отключён"},
	"state.insufficient": {en: "too little data", ru: "мало данных"},
	"state.nodata": {en: "no agents", ru: "нет агентов"},
	"where.isp": {en: "censor at the provider", ru: "цензор у провайдера"},
	"where.upstream": {en: "censor upstream", ru: "цензор выше по сети"},
	"where.mixed": {en: "censor at the provider and upstream", ru: "цензор у провайдера и выше по сети"},

	"map.title": {en: "Map: {0}", ru: "Карта: {0}"},
	"map.window": {en: "{0}, state now", ru: "{0}, состояние сейчас"},
	"map.summary": {en: "{0} regions with agents; {1} with a block.", ru: "Регионов с агентами: {0}; с блокировкой: {1}."},
	"map.missing": {en: "Not in regions.geojson", ru: "Нет в regions.geojson"},
	"map.worst": {en: "Where:", ru: "Где:"},
	"map.extra": {en: "Outside the 83 subjects", ru: "Вне 83 субъектов"},
	"map.empty": {en: "No judged measurements in this window.", ru: "В этом периоде нет оценённых измерений."},
	"link.isps": {en: "Providers →", ru: "Провайдеры →"},
	"link.timeline": {en: "Timeline →", ru: "Хронология →"},
	"link.cell": {en: "cell", ru: "ячейка"},
	"blocked.on": {en: "blocked on", ru: "блокировка в"},
	"n.agents": {en: "{0} agents", ru: "агентов: {0}"},
	"n.asns": {en: "{0} ASNs", ru: "сетей: {0}"},
	"n.meas": {en: "{0} measurements", ru: "измерений: {0}"},
	"conf": {en: "conf. {0}", ru: "увер. {0}"},
	"share": {en: "blocked share {0}%", ru: "доля блокировок {0}%"},
	"since": {en: "since {0}", ru: "с {0}"},
	"since.old": {en: "since > 30 d", ru: "дольше 30 дней"},
	"since.loading": {en: "since …", ru: "с …"},

	"matrix.title": {en: "Services × regions", ru: "Сервисы × регионы"},
	"matrix.hint": {en: "click a region for its providers", ru: "нажмите на регион, чтобы увидеть провайдеров"},
	"matrix.note": {en: "Region cells: method and confidence of their providers' cells (confidence: their mean); since: the latest change of any of them.", ru: "Ячейки регионов: метод и уверенность по ячейкам их провайдеров (уверенность — среднее); «с» — последнее изменение любой из них."},
	"isp.title": {en: "Regions × providers", ru: "Регионы × провайдеры"},
	"isp.title.region": {en: "Providers in {0}", ru: "Провайдеры: {0}"},
	"isp.hint": {en: "click a cell for its measurements", ru: "нажмите на ячейку, чтобы увидеть измерения"},
	"isp.empty": {en: "No provider cells for these filters in this window.", ru: "Для этих фильтров в этом периоде нет ячеек провайдеров."},

	"tl.title": {en: "{0} in {1}: blocked share per hour", ru: "{0}, {1}: доля блокировок по часам"},
	"tl.all": {en: "all regions", ru: "все регионы"},
	"tl.share": {en: "blocked share", ru: "доля блокировок"},
	"tl.legend": {en: "Blocked share: blocked and throttled cells over the cells judged that hour. Dashed lines: events (glyph of the new state). Shaded: hours with a whitelist or shutdown.", ru: "Доля блокировок: заблокированные и замедленные ячейки среди оценённых за час. Пунктир — события (значок нового состояния). Заливка — часы с белыми списками или отключением."},
	"tl.fallback": {en: "This aggregator has no /api/v1/history: the share is over measurements, not cells.", ru: "У этого агрегатора нет /api/v1/history: доля считается по измерениям, а не по ячейкам."},
	"tl.nochart": {en: "charts unavailable (uPlot is not installed here); the hours are in the table below", ru: "графики недоступны (uPlot не установлен); часы — в таблице ниже"},
	"tl.table": {en: "Every hour", ru: "Все часы"},

	"ev.kind": {en: "Kind", ru: "Вид"},
	"kind.all": {en: "news (no first judgements to open)", ru: "новости (без первых оценок «доступен»)"},
	"kind.block": {en: "new blocks", ru: "новые блокировки"},
	"kind.unblock": {en: "blocks lifted", ru: "снятые блокировки"},
	"kind.regime": {en: "whitelist and shutdown", ru: "белые списки и отключения"},
	"kind.first": {en: "first judgements", ru: "первые оценки"},
	"ev.first": {en: "first seen", ru: "впервые"},
	"ev.retracted": {en: "(retracted)", ru: "(отозвано)"},
	"ev.none": {en: "No events for these filters in this window.", ru: "Для этих фильтров в этом периоде нет событий."},
	"ev.clear": {en: "clear filters", ru: "сбросить фильтры"},
	"ev.more": {en: "{0} older events not shown; narrow the filters.", ru: "Ещё {0} событий не показано; сузьте фильтры."},

	"col.time": {en: "time (UTC)", ru: "время (UTC)"},
	"col.hour": {en: "hour (UTC)", ru: "час (UTC)"},
	"col.region": {en: "region", ru: "регион"},
	"col.asn": {en: "provider (AS)", ru: "провайдер (AS)"},
	"col.service": {en: "service", ru: "сервис"},
	"col.change": {en: "change", ru: "изменение"},
	"col.method": {en: "method", ru: "метод"},
	"col.cells": {en: "cells judged", ru: "оценено ячеек"},
	"col.meas": {en: "measurements", ru: "измерений"},
	"col.regime": {en: "regime", ru: "режим"},
	"col.name": {en: "name", ru: "имя"},
	"col.key": {en: "key", ru: "ключ"},
	"col.role": {en: "role", ru: "роль"},
	"col.network": {en: "network", ru: "сеть"},
	"col.state": {en: "state", ru: "состояние"},
	"col.lastseen": {en: "last seen (UTC)", ru: "последний раз (UTC)"},
	"col.backlog": {en: "backlog", ru: "очередь"},
	"col.dropped": {en: "dropped", ru: "потеряно"},
	"col.stored": {en: "stored", ru: "сохранено"},
	"col.rejected": {en: "refused", ru: "отклонено"},
	"col.version": {en: "version", ru: "версия"},
	"col.list": {en: "list version", ru: "версия списка"},
	"col.clock": {en: "clock offset", ru: "сдвиг часов"},
	"col.test": {en: "test", ru: "тест"},
	"col.target": {en: "target", ru: "цель"},
	"col.verdict": {en: "verdict", ru: "вердикт"},

	"agent.online": {en: "online", ru: "в сети"},
	"agent.offline": {en: "offline", ru: "не в сети"},
	"agent.never": {en: "never connected", ru: "ни разу не подключался"},
	"agent.disabled": {en: "disabled", ru: "отключён"},
	"agents.list": {en: "Test list version {0}, expires {1}, {2} tests.", ru: "Список тестов версии {0}, истекает {1}, тестов: {2}."},
	"agents.expired": {en: "Expired: agents keep their old list.", ru: "Истёк: агенты работают по старому списку."},
	"agents.nolist": {en: "No signed test list pushed.", ru: "Подписанный список тестов не загружен."},

	"ex.all": {en: "all measurements", ru: "все измерения"},
	"ex.none": {en: "No measurements for these filters in this window.", ru: "Для этих фильтров в этом периоде нет измерений."},
	"ex.newer": {en: "newer", ru: "новее"},
	"ex.older": {en: "older", ru: "старше"},
	"ex.detail": {en: "Measurement", ru: "Измерение"},
	"ex.failure": {en: "failure:", ru: "сбой:"},
	"ex.verify": {en: "Verify this record yourself", ru: "Проверьте эту запись сами"},
	"ex.verify.hint": {en: "The agent signed these bytes with its Ed25519 key; this checks the signature without trusting this server (docs/DATA.md). Or save the record as one line of rec.jsonl and run: zondctl verify rec.jsonl", ru: "Агент подписал эти байты своим ключом Ed25519; программа проверяет подпись, не доверяя этому серверу (docs/DATA.md). Или сохраните запись одной строкой в rec.jsonl и выполните: zondctl verify rec.jsonl"},
	"ex.raw": {en: "Raw signed record", ru: "Исходная подписанная запись"},
	"ex.copy": {en: "copy", ru: "копировать"},
	"ex.copied": {en: "copied", ru: "скопировано"},
};

let lang = "en";

export function setLang(l) {
	lang = l === "ru" ? "ru" : "en";
}

export function getLang() {
	return lang;
}

/* the string for key in the current language, {N} replaced by args[N] */
export function t(key, ...args) {
	const e = STRINGS[key];
	const s = e ? e[lang] : key;
	return s.replace(/\{(\d)\}/g, (m, i) => args[i] === undefined ? m : String(args[i]));
}
