/*
 * app.js — the Zond dashboard's entry (docs/DASHBOARD.md): reads
 * /api/v1/info, keeps the view state in the URL hash (#/VIEW?k=v, so a
 * link reproduces the view), draws the header (views, service, window,
 * language, auto-refresh), and hands the main area to the view's module.
 * The map view paints from /api/v1/map alone; events and history are
 * fetched by the views that show them.  document.body.dataset.ready is
 * "0" while a view loads and "1" once it has painted its data.
 */
import {t, setLang, getLang} from "./i18n.js";
import {AuthError, getInfo, getJSON, getEvents, setToken, getToken} from "./api.js";
import {el, hoursAgo, note} from "./common.js";
import {parseHash, hashOf, HOURS} from "./route.js";
import * as mapView from "./view_map.js";
import * as matrixView from "./view_matrix.js";
import * as timelineView from "./view_timeline.js";
import * as eventsView from "./view_events.js";
import * as opView from "./view_operator.js";

const VIEWS = {
	map: mapView.render,
	matrix: matrixView.renderMatrix,
	isp: matrixView.renderIsp,
	timeline: timelineView.render,
	events: eventsView.render,
	agents: opView.renderAgents,
	explorer: opView.renderExplorer,
};
const OPERATOR_ONLY = new Set(["agents", "explorer"]);
const REFRESH_MS = 30000;
const CACHE_MS = 20000;

let info = null;
let state = null;
let generation = 0;
let paused = false;
let timer = null;
const cache = new Map();	/* key -> {at, promise} */

function href(patch) {
	return hashOf(Object.assign({}, state, patch));
}

/* a new view: not ready from this moment (the hashchange comes later) */
function go(patch) {
	const h = href(patch);
	if (h !== location.hash)
		setReady("0");
	location.hash = h;
}

/* one fetch per key within CACHE_MS, shared by the views and the header */
function cached(key, fn, force) {
	const c = cache.get(key);
	if (!force && c && Date.now() - c.at < CACHE_MS)
		return c.promise;
	const p = fn();
	cache.set(key, {at: Date.now(), promise: p});
	p.catch(() => {
		if (cache.get(key) && cache.get(key).promise === p)
			cache.delete(key);
	});
	return p;
}

/* the map of the window ending now, each agent's latest sample
   (docs/API.md sample=latest): the state now */
function loadMap(part) {
	const h = state.hours;
	const p = part || {};
	return cached("map:" + h + ":" + JSON.stringify(p), () => getJSON("api/v1/map",
	    Object.assign({since: hoursAgo(h), sample: "latest"}, p)));
}

/* the region rows alone (cells=none): what the tiles, the header's
   service list and the timeline need, a small part of a national map */
function loadRows() {
	return loadMap({cells: "none"});
}

/* every state change of the last 30 days, first judgements included:
   where each cell's current state started ("since") */
function loadEvents30() {
	return cached("ev30", () => getEvents({since: hoursAgo(30 * 24), first: "all"}));
}

/* the services in a map document, parts after their service */
export function servicesOf(doc) {
	const s = new Set();
	for (const r of doc.regions)
		s.add(r.service);
	for (const c of doc.cells)
		s.add(c.service);
	return [...s].sort();
}

/* the service a view shows: the URL's, else "any call service" (@calls)
   when some service has a calls part, else the first */
function effService(doc, single) {
	const svcs = servicesOf(doc);
	const calls = svcs.filter(s => s.endsWith("/calls"));
	let s = state.service;
	if (s === "@calls" && single)
		s = "";
	if (s && (s === "@calls" || svcs.includes(s) || !single))
		return s;
	if (!single && calls.length)
		return "@calls";
	return calls[0] || svcs.find(x => !x.includes("/")) || svcs[0] || "";
}

function setReady(v) {
	document.body.dataset.ready = v;
}

/* ------------------------------------------------------------ header */

function renderNav() {
	const nav = document.getElementById("nav");
	nav.replaceChildren();
	for (const v of Object.keys(VIEWS)) {
		if (OPERATOR_ONLY.has(v) && info.mode === "public")
			continue;
		const patch = {view: v};
		if (v === "map" || v === "matrix")
			patch.region = patch.asn = "";
		nav.appendChild(el("a", {href: href(patch), class: v === state.view ? "on" : "",
		    "data-view": v}, t("view." + v)));
	}
}

async function renderControls() {
	const svc = document.getElementById("service");
	const hours = document.getElementById("hours");
	const lang = document.getElementById("lang");
	document.getElementById("l-service").firstChild.textContent = t("ctl.service") + " ";
	document.getElementById("l-hours").firstChild.textContent = t("ctl.window") + " ";
	hours.replaceChildren(...HOURS.map(h => el("option", {value: h,
	    selected: h === state.hours}, t("hours." + h))));
	lang.textContent = state.lang === "ru" ? "English" : "Русский";
	lang.setAttribute("lang", state.lang === "ru" ? "en" : "ru");
	const pause = document.getElementById("pause");
	pause.textContent = paused ? t("ctl.resume") : t("ctl.pause");
	pause.setAttribute("aria-pressed", paused ? "true" : "false");
	pause.title = t("ctl.refresh");
	document.getElementById("mode").textContent = info.mode === "public" ?
	    t("mode.public", info.min_agents === null || info.min_agents === undefined ? "?" : info.min_agents) : t("mode.operator");
	let svcs = [];
	try {
		svcs = servicesOf(await loadRows());
	} catch (e) {
		svcs = [];
	}
	const opts = [el("option", {value: ""}, t("ctl.service.default"))];
	if (svcs.some(s => s.endsWith("/calls")))
		opts.push(el("option", {value: "@calls"}, t("ctl.service.calls")));
	for (const s of svcs)
		opts.push(el("option", {value: s}, s));
	if (state.service && !svcs.includes(state.service) && state.service !== "@calls")
		opts.push(el("option", {value: state.service}, state.service));
	svc.replaceChildren(...opts);
	svc.value = state.service;
}

function wireControls() {
	document.getElementById("service").addEventListener("change", e => go({service: e.target.value}));
	document.getElementById("hours").addEventListener("change", e => go({hours: Number(e.target.value)}));
	document.getElementById("lang").addEventListener("click", () => go({lang: state.lang === "ru" ? "en" : "ru"}));
	document.getElementById("pause").addEventListener("click", () => {
		paused = !paused;
		renderControls();
		if (!paused)
			show(true);
	});
	document.getElementById("token-form").addEventListener("submit", ev => {
		ev.preventDefault();
		const v = document.getElementById("token").value.trim();
		if (!v)
			return;
		setToken(v);
		document.getElementById("token-box").hidden = true;
		delete document.body.dataset.locked;
		start();
	});
	window.addEventListener("hashchange", () => {
		document.getElementById("popover").hidden = true;
		show(false);
	});
	document.addEventListener("click", ev => {
		const a = ev.target.closest && ev.target.closest('a[href^="#/"]');
		if (a && a.getAttribute("href") !== location.hash)
			setReady("0");
		const box = document.getElementById("popover");
		if (!box.hidden && !box.contains(ev.target))
			box.hidden = true;
	});
}

function askToken(msg) {
	const box = document.getElementById("token-box");
	box.hidden = false;
	document.body.dataset.locked = "1";
	document.getElementById("token-msg").textContent = msg || t("token.ask");
	document.getElementById("token-label").firstChild.textContent = t("token.label") + " ";
	document.getElementById("token-ok").textContent = t("token.ok");
	document.getElementById("token").focus();
	setReady("1");
}

/* --------------------------------------------------------------- views */

async function show(refresh) {
	const gen = ++generation;
	state = parseHash(location.hash);
	if (!state.lang) {
		state.lang = (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
	}
	setLang(state.lang);
	document.documentElement.lang = state.lang;
	document.title = t("title");
	document.getElementById("h-title").textContent = t("title");
	if (info.mode === "public" && OPERATOR_ONLY.has(state.view)) {
		location.replace(href({view: "map"}));
		return;
	}
	if (refresh)
		cache.clear();
	setReady("0");
	renderNav();
	const main = document.getElementById("main");
	const status = document.getElementById("status");
	const ctx = {
		state, info, lang: getLang(), main, href, go, loadMap, loadRows, loadEvents30,
		servicesOf, effService, refresh,
		alive: () => gen === generation,
	};
	renderControls();
	try {
		if (!refresh)
			main.replaceChildren(note(t("loading")));
		await VIEWS[state.view](ctx);
		if (gen !== generation)
			return;
		status.textContent = t("updated", new Date().toISOString().slice(11, 19));
		status.className = "";
	} catch (e) {
		if (gen !== generation)
			return;
		if (e instanceof AuthError) {
			setToken(null);
			askToken(t("token.bad"));
			return;
		}
		status.textContent = String(e.message || e);
		status.className = "err";
		main.replaceChildren(note(String(e.message || e), "err"));
	}
	if (gen === generation)
		setReady("1");
}

async function start() {
	setReady("0");
	/* the map is the first thing most views need: ask for it beside
	   /api/v1/info rather than after (a 401 is dropped from the cache) */
	state = parseHash(location.hash);
	if (!["agents", "explorer"].includes(state.view))
		loadRows().catch(() => {});
	try {
		info = await getInfo();
	} catch (e) {
		if (e instanceof AuthError) {
			setToken(null);
			info = {mode: "operator", auth: true, authorized: false};
		} else {
			document.getElementById("status").textContent = String(e.message || e);
			info = {mode: "operator", auth: false, authorized: true};
		}
	}
	document.body.dataset.mode = info.mode;
	if (info.auth && !info.authorized) {
		setLang(parseHash(location.hash).lang || "en");
		askToken(getToken() ? t("token.bad") : t("token.ask"));
		return;
	}
	await show(false);
	if (timer === null)
		timer = setInterval(() => {
			/* the explorer stays on its page and open record */
			if (!paused && document.visibilityState !== "hidden" && state.view !== "explorer")
				show(true);
		}, REFRESH_MS);
}

wireControls();
start();
