/*
 * view_map.js — the map: every one of the 83 federal subjects as an equal
 * tile (regions.js), or a true choropleth when the dashboard directory
 * holds regions.geojson (docs/DASHBOARD.md "GeoJSON"), coloured and
 * marked by the state of the chosen service (or the worst over the call
 * parts, "any call service") in the window ending now.  Regions without
 * data are nodata (hatched); regions in the data that are not among the
 * 83 (e.g. "other" in the public view) are listed under the map.  Paints
 * from /api/v1/map alone.
 */
import {t} from "./i18n.js";
import {REGIONS, BY_CODE, GRID_W, GRID_H, regionName} from "./regions.js";
import {el, GLYPH, STATES, worst, stateBadge, note} from "./common.js";
import {getToken} from "./api.js";

let geo;		/* undefined: not asked yet; null: none; else the features */

async function loadGeo() {
	if (geo !== undefined)
		return geo;
	try {
		const headers = {};
		const tok = getToken();
		if (tok)
			headers.Authorization = "Bearer " + tok;
		const r = await fetch("regions.geojson", {headers});
		geo = r.ok ? parseGeo(await r.json()) : null;
	} catch (e) {
		geo = null;
	}
	return geo;
}

/* the ISO 3166-2 code of a feature: Natural Earth's admin-1 has
   iso_3166_2, OpenStreetMap's boundaries ISO3166-2 */
const ISO_KEYS = ["iso_3166_2", "ISO3166-2", "ISO_3166_2", "iso3166_2", "iso_code", "ref:iso3166-2"];

function parseGeo(doc) {
	const out = [];
	for (const f of (doc && doc.features) || []) {
		const p = f.properties || {};
		const key = ISO_KEYS.find(k => typeof p[k] === "string" && /^[A-Z]{2}-[A-Z0-9]{1,3}$/.test(p[k]));
		if (!key || !f.geometry)
			continue;
		const g = f.geometry;
		const polys = g.type === "Polygon" ? [g.coordinates] :
		    g.type === "MultiPolygon" ? g.coordinates : [];
		out.push({code: p[key], polys});
	}
	return out.length ? out : null;
}

/* equirectangular around 60°N, longitudes past the antimeridian
   (Chukotka) carried on east of 180° */
function project(lon, lat) {
	return [(lon < 0 ? lon + 360 : lon) * 0.5, -lat];
}

/* state of each region: {code -> {state, rows}} for the service svc */
export function regionStates(doc, svc) {
	const present = new Set();
	for (const r of doc.regions)
		present.add(r.region);
	for (const c of doc.cells)
		present.add(c.region);
	const match = svc === "@calls" ? r => r.service.endsWith("/calls") : r => r.service === svc;
	const rowsOf = new Map([...present].map(code => [code, []]));
	for (const r of doc.regions)
		if (match(r))
			rowsOf.get(r.region).push(r);
	const out = new Map();
	for (const [code, rows] of rowsOf)
		out.set(code, {state: rows.length ? worst(rows.map(r => r.verdict)) : "insufficient", rows});
	return out;
}

function tileTitle(code, lang, st) {
	return regionName(code, lang) + " (" + code + "): " + t("state." + st);
}

function popover(ctx, code, st, anchor) {
	const box = document.getElementById("popover");
	const lang = ctx.lang;
	const kids = [el("strong", {}, regionName(code, lang)), " ", el("span", {class: "code"}, code),
	    el("div", {}, stateBadge(st.state))];
	for (const r of st.rows) {
		const bits = [r.service + ": " + t("state." + r.verdict)];
		bits.push(t("n.agents", r.agents) + ", " + t("n.asns", r.asns));
		if (r.blocked_asns && r.blocked_asns.length)
			bits.push(t("blocked.on") + " AS" + r.blocked_asns.join(", AS"));
		if (r.where && r.where !== "unknown")
			bits.push(t("where." + r.where));
		kids.push(el("div", {class: "small"}, bits.join(" · ")));
	}
	const svc = ctx.state.service;
	kids.push(el("div", {class: "links"},
	    el("a", {class: "to-isp", href: ctx.href({view: "isp", region: code, asn: ""})}, t("link.isps")), " ",
	    el("a", {class: "to-timeline", href: ctx.href({view: "timeline", region: code, asn: "",
		service: svc === "@calls" ? "" : svc})}, t("link.timeline")), " ",
	    el("button", {type: "button", class: "close", onclick: () => { box.hidden = true; }}, "×")));
	box.replaceChildren(...kids);
	box.hidden = false;
	const r = anchor.getBoundingClientRect();
	const w = Math.min(280, window.innerWidth - 16);
	box.style.width = w + "px";
	box.style.left = Math.max(8, Math.min(window.scrollX + r.left, window.scrollX + window.innerWidth - w - 8)) + "px";
	box.style.top = (window.scrollY + r.bottom + 4) + "px";
	box.dataset.region = code;
}

function tile(ctx, code, st, extra) {
	const label = code.startsWith("RU-") ? code.slice(3) : code;
	const b = el("button", {type: "button", class: "tile v-" + st.state + (extra ? " extra" : ""),
	    title: tileTitle(code, ctx.lang, st.state), dataset: {region: code, state: st.state},
	    "aria-label": tileTitle(code, ctx.lang, st.state)},
	    el("span", {class: "code"}, label), el("span", {class: "g", "aria-hidden": "true"}, GLYPH[st.state]));
	b.addEventListener("click", ev => {
		ev.stopPropagation();
		popover(ctx, code, st, b);
	});
	return b;
}

function grid(ctx, states) {
	const g = el("div", {class: "tiles", style: "--w:" + GRID_W + ";--h:" + GRID_H});
	for (const r of REGIONS) {
		const st = states.get(r.code) || {state: "nodata", rows: []};
		const b = tile(ctx, r.code, st, false);
		b.style.gridColumn = String(r.x + 1);
		b.style.gridRow = String(r.y + 1);
		g.appendChild(b);
	}
	return g;
}

function choropleth(ctx, states, feats) {
	const NS = "http://www.w3.org/2000/svg";
	const svg = document.createElementNS(NS, "svg");
	svg.setAttribute("class", "geo");
	/* nodata: hatched, as the tiles */
	const defs = document.createElementNS(NS, "defs");
	const pat = document.createElementNS(NS, "pattern");
	for (const [k, v] of [["id", "hatch"], ["width", "0.6"], ["height", "0.6"], ["patternUnits", "userSpaceOnUse"],
	    ["patternTransform", "rotate(45)"]])
		pat.setAttribute(k, v);
	const bar = document.createElementNS(NS, "rect");
	for (const [k, v] of [["width", "0.15"], ["height", "0.6"], ["fill", "#c8c8c8"]])
		bar.setAttribute(k, v);
	pat.appendChild(bar);
	defs.appendChild(pat);
	svg.appendChild(defs);
	let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
	const drawn = new Set();
	for (const f of feats) {
		let d = "";
		for (const poly of f.polys)
			for (const ring of poly) {
				ring.forEach(([lon, lat], i) => {
					const [x, y] = project(lon, lat);
					x0 = Math.min(x0, x); x1 = Math.max(x1, x);
					y0 = Math.min(y0, y); y1 = Math.max(y1, y);
					d += (i ? "L" : "M") + x.toFixed(2) + " " + y.toFixed(2);
				});
				d += "Z";
			}
		const st = states.get(f.code) || {state: "nodata", rows: []};
		const p = document.createElementNS(NS, "path");
		p.setAttribute("d", d);
		p.setAttribute("class", "tile v-" + st.state);
		p.setAttribute("tabindex", "0");
		p.dataset.region = f.code;
		p.dataset.state = st.state;
		const title = document.createElementNS(NS, "title");
		title.textContent = tileTitle(f.code, ctx.lang, st.state);
		p.appendChild(title);
		p.addEventListener("click", ev => { ev.stopPropagation(); popover(ctx, f.code, st, p); });
		svg.appendChild(p);
		drawn.add(f.code);
	}
	svg.setAttribute("viewBox", [x0, y0, x1 - x0, y1 - y0].map(v => v.toFixed(2)).join(" "));
	return {svg, drawn};
}

function legend() {
	return el("div", {class: "legend"}, STATES.map(s => stateBadge(s)));
}

export async function render(ctx) {
	const [doc, feats] = await Promise.all([ctx.loadRows(), loadGeo()]);
	if (!ctx.alive())
		return;
	const svc = ctx.effService(doc, false);
	const states = regionStates(doc, svc);
	const head = el("h2", {}, t("map.title", svc === "@calls" ? t("ctl.service.calls") : svc || "—"),
	    " ", el("small", {}, t("map.window", t("hours." + ctx.state.hours))));
	let body, drawn;
	if (feats) {
		const c = choropleth(ctx, states, feats);
		body = c.svg;
		drawn = c.drawn;
	} else {
		body = grid(ctx, states);
		drawn = new Set(REGIONS.map(r => r.code));
	}
	/* the 83 missing from a GeoJSON, and regions in the data beyond them */
	const missing = REGIONS.map(r => r.code).filter(code => !drawn.has(code));
	const beyond = [...states.keys()].sort().filter(code => !BY_CODE.has(code) && !drawn.has(code));
	const list = (title, codes) => codes.length ? el("div", {class: "extras"}, el("h3", {}, title),
	    codes.map(code => el("span", {class: "extra-item"}, tile(ctx, code, states.get(code) || {state: "nodata", rows: []}, true),
		" " + regionName(code, ctx.lang)))) : "";
	const extra = [list(t("map.missing"), missing), list(t("map.extra"), beyond)];
	const counts = {};
	for (const [, s] of states)
		counts[s.state] = (counts[s.state] || 0) + 1;
	/* the headline: the regions with a block or a regime, worst first */
	const order = ["shutdown", "whitelist", "blocked", "throttled", "partial"];
	const hit = [...states].filter(([, s]) => order.includes(s.state))
	    .sort((a, b) => order.indexOf(a[1].state) - order.indexOf(b[1].state) || (a[0] < b[0] ? -1 : 1));
	const summary = [el("p", {class: "summary"}, t("map.summary", states.size,
	    (counts.blocked || 0) + (counts.throttled || 0) + (counts.partial || 0))),
	    hit.length ? el("p", {class: "hits"}, t("map.worst"), " ", hit.slice(0, 12).map(([code, s], i) => [i ? ", " : "",
		el("span", {class: "hit"}, stateBadge(s.state), " " + regionName(code, ctx.lang))]),
		hit.length > 12 ? " …" : "") : ""];
	ctx.main.replaceChildren(head, ...summary, body, ...extra, legend(),
	    doc.regions.length ? "" : note(t("map.empty")));
}
