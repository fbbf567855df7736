/*
 * common.js — what every view shares: the states with their glyphs and
 * order of severity, DOM building (every value from the API goes in as
 * text, never as HTML: names and targets come from the network), times.
 */
import {t} from "./i18n.js";

/* every state a tile or cell can show, and its glyph, so the page reads
   without colour (docs/DASHBOARD.md "States") */
export const GLYPH = {
	ok: "✓", blocked: "✕", throttled: "≈", down: "↓", partial: "±",
	geoblocked: "G", filtered: "F", review: "?", whitelist: "W",
	shutdown: "⊘", insufficient: "·", nodata: "",
};
export const STATES = Object.keys(GLYPH);

/* worst first: "worst state over services" picks the earliest */
const SEVERITY = ["shutdown", "whitelist", "blocked", "throttled", "partial",
	"filtered", "geoblocked", "review", "down", "ok", "insufficient", "nodata"];

export function worst(states) {
	let best = SEVERITY.length - 1;
	for (const s of states) {
		const i = SEVERITY.indexOf(s);
		if (i >= 0 && i < best)
			best = i;
	}
	return SEVERITY[best];
}

export function isBlocked(s) {
	return s === "blocked" || s === "throttled";
}

/* el("td", {class: "x", dataset: {region: "RU-MOW"}}, "text", node, ...) */
export function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === "dataset")
			Object.assign(e.dataset, v);
		else if (k === "class")
			e.className = v;
		else if (k.startsWith("on"))
			e.addEventListener(k.slice(2), v);
		else
			e.setAttribute(k, v === true ? "" : String(v));
	}
	for (const c of kids.flat(Infinity)) {
		if (c === undefined || c === null || c === false)
			continue;
		e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

/* a state as glyph + word: <span class="st v-blocked">✕ blocked</span> */
export function stateBadge(s) {
	return el("span", {class: "st v-" + s}, el("span", {class: "g", "aria-hidden": "true"}, GLYPH[s] || ""),
	    " " + t("state." + s));
}

/* an ISO time without seconds, UTC, as "2026-12-07 14:00" */
export function fmtTime(iso) {
	if (!iso)
		return "—";
	return String(iso).replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "").replace(/Z$/, "");
}

/* now minus h hours, whole seconds, as the API takes it */
export function hoursAgo(h) {
	return new Date(Date.now() - h * 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
}

export function pct(x) {
	return Math.round(100 * x) + "%";
}

export function asnText(asn) {
	return asn === null || asn === undefined ? "—" : "AS" + asn;
}

/* a message in place of a view's content */
export function note(text, cls) {
	return el("p", {class: "note " + (cls || "")}, text);
}
