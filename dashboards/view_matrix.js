/*
 * view_matrix.js — the service × region matrix (rows regions, columns
 * services: a phone scrolls the matrix sideways, never the page) and the
 * region × ISP matrix (rows region and AS, columns the chosen service or
 * all).  Each cell: verdict, method and where the censor sits,
 * confidence, agents/ASNs, and since when (the latest event of the cell
 * in the last 30 days; "> 30 d" when none).  A region leads to its ISPs,
 * an ISP cell to its measurements (operator) or its timeline (public).
 */
import {t} from "./i18n.js";
import {regionName} from "./regions.js";
import {el, stateBadge, fmtTime, note, asnText} from "./common.js";

function svcMatch(svc) {
	if (!svc)
		return () => true;
	if (svc === "@calls")
		return s => s.endsWith("/calls");
	return s => s === svc;
}

/* "region|asn|service" and "region||service" -> time of the latest
   event; filled once the 30-day events arrive */
function sinceIndex(events) {
	const idx = new Map();
	for (const e of events) {
		for (const k of [e.region + "|" + e.asn + "|" + e.service, e.region + "||" + e.service])
			if (!idx.has(k) || idx.get(k) < e.time)
				idx.set(k, e.time);
	}
	return idx;
}

function cellBody(o) {
	const bits = [];
	const m = [o.method, o.where && o.where !== "unknown" ? "@" + o.where : null].filter(Boolean).join(" ");
	return [stateBadge(o.state),
	    m ? el("div", {class: "m"}, m) : "",
	    el("div", {class: "c"}, [o.conf !== null && o.conf !== undefined ? t("conf", o.conf.toFixed(2)) : "",
		o.who].filter(Boolean).join(" · ")),
	    el("div", {class: "since", dataset: {key: o.key}}, t("since.loading"))].concat(bits);
}

async function fillSince(ctx, table) {
	let idx;
	try {
		idx = sinceIndex((await ctx.loadEvents30()).events);
	} catch (e) {
		idx = null;
	}
	if (!ctx.alive())
		return;
	for (const d of table.querySelectorAll(".since")) {
		const tm = idx && idx.get(d.dataset.key);
		d.textContent = idx === null ? "" : tm ? t("since", fmtTime(tm)) : t("since.old");
	}
}

export async function renderMatrix(ctx) {
	/* the region rows alone: each carries its cells' common method and
	   mean confidence (docs/API.md), so no ISP cell is fetched */
	const doc = await ctx.loadRows();
	if (!ctx.alive())
		return;
	const svc = ctx.state.service;
	const svcs = ctx.servicesOf(doc).filter(svcMatch(svc));
	const regions = [...new Set(doc.regions.map(r => r.region))].sort();
	const head = el("h2", {}, t("matrix.title"), " ", el("small", {}, t("matrix.hint")));
	if (!regions.length || !svcs.length) {
		ctx.main.replaceChildren(head, note(t("map.empty")));
		return;
	}
	const rowOf = new Map(doc.regions.map(r => [r.region + "|" + r.service, r]));
	const table = el("table", {class: "matrix"});
	table.appendChild(el("tr", {}, el("th", {}, t("col.region")), svcs.map(s => el("th", {scope: "col"}, s))));
	for (const reg of regions) {
		const tr = el("tr", {}, el("th", {scope: "row", class: "rh"},
		    el("a", {href: ctx.href({view: "isp", region: reg, asn: ""})}, regionName(reg, ctx.lang)),
		    el("span", {class: "code"}, " " + reg)));
		for (const s of svcs) {
			const r = rowOf.get(reg + "|" + s);
			if (!r) {
				tr.appendChild(el("td", {class: "cell empty"}, ""));
				continue;
			}
			const conf = typeof r.confidence === "number" ? r.confidence : null;
			const method = r.method || null;
			const td = el("td", {class: "cell v-" + r.verdict, tabindex: "0",
			    dataset: {region: reg, service: s, state: r.verdict},
			    title: regionName(reg, ctx.lang) + ", " + s + ": " + t("state." + r.verdict) +
				(r.blocked_asns && r.blocked_asns.length ? "; " + t("blocked.on") + " AS" + r.blocked_asns.join(", AS") : "")},
			    cellBody({state: r.verdict, method, where: r.where, conf,
				who: t("n.agents", r.agents) + " · " + t("n.asns", r.asns), key: reg + "||" + s}));
			td.addEventListener("click", () => ctx.go({view: "isp", region: reg, asn: "", service: s}));
			tr.appendChild(td);
		}
		table.appendChild(tr);
	}
	ctx.main.replaceChildren(head, el("div", {class: "scroll"}, table), legendNote());
	await fillSince(ctx, table);
}

function legendNote() {
	return el("p", {class: "small"}, t("matrix.note"));
}

export async function renderIsp(ctx) {
	const st = ctx.state;
	/* the whole country's ISPs for one service (the URL's, or the
	   default one): that service's cells; one region's ISPs for every
	   service: that region's cells (docs/API.md map region, cells) */
	const rdoc = st.region || st.asn ? null : await ctx.loadRows();
	if (!ctx.alive())
		return;
	const svc = st.service || (rdoc ? ctx.effService(rdoc, true) : "");
	const doc = await ctx.loadMap(st.region ? {region: st.region} :
	    svc && !st.asn && svc !== "@calls" ? {service: svc} : undefined);
	if (!ctx.alive())
		return;
	const svcs = ctx.servicesOf(doc).filter(svcMatch(svc));
	const keep = c => (!st.region || c.region === st.region) && (!st.asn || String(c.asn) === st.asn);
	const cells = doc.cells.filter(keep);
	const rows = [...new Map(cells.map(c => [c.region + "|" + c.asn, c])).values()]
	    .sort((a, b) => a.region < b.region ? -1 : a.region > b.region ? 1 : a.asn - b.asn);
	const title = st.region ? t("isp.title.region", regionName(st.region, ctx.lang) + " (" + st.region + ")") : t("isp.title");
	const head = el("h2", {}, title, " ", el("small", {}, t("isp.hint")));
	const up = el("p", {class: "small"}, el("a", {href: ctx.href({view: "matrix", region: "", asn: ""})}, "← " + t("view.matrix")),
	    st.region ? [" · ", el("a", {href: ctx.href({view: "timeline"})}, t("link.timeline"))] : "");
	if (!rows.length || !svcs.length) {
		ctx.main.replaceChildren(head, up, note(t("isp.empty")));
		return;
	}
	const table = el("table", {class: "matrix isp"});
	table.appendChild(el("tr", {}, el("th", {}, t("col.region")), el("th", {}, t("col.asn")),
	    svcs.map(s => el("th", {scope: "col"}, s))));
	const idx = new Map(cells.map(c => [c.region + "|" + c.asn + "|" + c.service, c]));
	for (const row of rows) {
		const tr = el("tr", {}, el("th", {scope: "row", class: "rh"}, regionName(row.region, ctx.lang),
		    el("span", {class: "code"}, " " + row.region)), el("th", {scope: "row"}, asnText(row.asn)));
		for (const s of svcs) {
			const c = idx.get(row.region + "|" + row.asn + "|" + s);
			if (!c) {
				tr.appendChild(el("td", {class: "cell empty"}, ""));
				continue;
			}
			const td = el("td", {class: "cell v-" + c.verdict, tabindex: "0",
			    dataset: {region: c.region, asn: String(c.asn), service: s, state: c.verdict},
			    title: t("share", Math.round(100 * c.blocked_share)) + ", " + t("n.meas", c.measurements) +
				(c.facets ? "; calls " + c.facets.calls + ", messaging " + c.facets.messaging : "")},
			    cellBody({state: c.verdict, method: c.method, where: c.where, conf: c.confidence,
				who: t("n.agents", c.agents) + " · " + t("n.meas", c.measurements),
				key: c.region + "|" + c.asn + "|" + s}));
			const next = st.view === "isp" && ctx.info.mode !== "public" ?
			    {view: "explorer", region: c.region, asn: String(c.asn), service: s} :
			    {view: "timeline", region: c.region, asn: String(c.asn), service: s};
			td.addEventListener("click", () => ctx.go(next));
			tr.appendChild(td);
		}
		table.appendChild(tr);
	}
	ctx.main.replaceChildren(head, up, el("div", {class: "scroll"}, table));
	await fillSince(ctx, table);
}
