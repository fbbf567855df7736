/*
 * api.js — the aggregator's HTTP API as the page reads it (docs/API.md):
 * relative paths (so the page works behind a reverse proxy under a
 * prefix), no caching, and the operator token of docs/DASHBOARD.md kept
 * in sessionStorage and sent as "Authorization: Bearer" on every fetch.
 */
const TOKEN_KEY = "zond-token";

export class AuthError extends Error {}

export function getToken() {
	try {
		return sessionStorage.getItem(TOKEN_KEY);
	} catch (e) {
		return null;
	}
}

export function setToken(tok) {
	try {
		if (tok)
			sessionStorage.setItem(TOKEN_KEY, tok);
		else
			sessionStorage.removeItem(TOKEN_KEY);
	} catch (e) {
		/* storage disabled: the token lasts until the page closes */
	}
}

/* the query string of params, leaving out empty values */
export function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {}))
		if (v !== undefined && v !== null && v !== "")
			q.set(k, String(v));
	const s = q.toString();
	return s ? "?" + s : "";
}

/* GET path?params as JSON; an error names the path and the server's
   message; 401 is an AuthError (the page asks for the token) */
export async function getJSON(path, params) {
	const headers = {};
	const tok = getToken();
	if (tok)
		headers.Authorization = "Bearer " + tok;
	const r = await fetch(path + query(params), {cache: "no-store", headers});
	let body = null;
	try {
		body = await r.json();
	} catch (e) {
		body = null;
	}
	if (r.status === 401)
		throw new AuthError((body && body.error) || "token needed");
	if (!r.ok) {
		const e = new Error(path + ": " + ((body && body.error) || "HTTP " + r.status));
		e.status = r.status;
		throw e;
	}
	return body;
}

/* /api/v1/info; an aggregator without it is an open operator view */
export async function getInfo() {
	try {
		return await getJSON("api/v1/info");
	} catch (e) {
		if (e.status === 404)
			return {mode: "operator", auth: false, authorized: true,
			    min_agents: null, version: null};
		throw e;
	}
}

/* events with first judgements marked (docs/API.md "first"): an
   aggregator without the `first` parameter answers 400; then the page
   marks them itself (from = insufficient) and applies the same rule */
export async function getEvents(params) {
	try {
		return await getJSON("api/v1/events", params);
	} catch (e) {
		if (e.status !== 400 || !params.first)
			throw e;
		const p = Object.assign({}, params);
		const first = p.first;
		delete p.first;
		const doc = await getJSON("api/v1/events", p);
		doc.events = doc.events.map(ev => Object.assign({}, ev,
		    ev.from === "insufficient" ? {first: true} : {})).filter(ev =>
		    first === "all" || !ev.first ||
		    (first === "news" && ev.to !== "ok"));
		return doc;
	}
}
