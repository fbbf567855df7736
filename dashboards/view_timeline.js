/*
 * view_timeline.js — blocked share per hour of one service (and region
 * or ISP when chosen) from /api/v1/history: (blocked + throttled) / cells
 * judged; events drawn as markers, hours with whitelist or shutdown
 * cells shaded.  Drawn with uPlot (vendored, docs/DASHBOARD.md
 * "Libraries"); without it the page says "charts unavailable" and the
 * table below the chart still holds every hour.  An aggregator without
 * /api/v1/history gives the measurements' blocked share from
 * /api/v1/timeseries instead, and says so.
 */
import {t} from "./i18n.js";
import {regionName} from "./regions.js";
import {el, hoursAgo, fmtTime, note, pct, GLYPH, stateBadge} from "./common.js";
import {getJSON, getEvents} from "./api.js";

let uplot;	/* undefined: not loaded yet; null: unavailable */

function loadUplot() {
	if (uplot !== undefined)
		return Promise.resolve(uplot);
	if (window.uPlot)
		return Promise.resolve(uplot = window.uPlot);
	return new Promise(resolve => {
		const css = el("link", {rel: "stylesheet", href: "uPlot.min.css"});
		document.head.appendChild(css);
		const s = el("script", {src: "uPlot.iife.min.js"});
		s.onload = () => resolve(uplot = window.uPlot || null);
		s.onerror = () => resolve(uplot = null);
		document.head.appendChild(s);
	});
}

/* buckets {start, share, cells, regime} from history, else from the
   measurement time series */
async function series(params) {
	try {
		const h = await getJSON("api/v1/history", params);
		return {source: "history", buckets: h.buckets.map(b => ({
			start: b.start, cells: b.cells,
			share: b.cells ? (b.blocked + b.throttled) / b.cells : null,
			regime: (b.whitelist || 0) + (b.shutdown || 0),
			whitelist: b.whitelist || 0, shutdown: b.shutdown || 0}))};
	} catch (e) {
		if (e.status !== 404)
			throw e;
	}
	const p = Object.assign({role: "probe"}, params);
	const ts = await getJSON("api/v1/timeseries", p);
	return {source: "timeseries", buckets: ts.buckets.map(b => ({
		start: b.start, cells: b.measurements,
		share: b.measurements ? (b.blocked + b.throttled) / b.measurements : null,
		regime: 0, whitelist: 0, shutdown: 0}))};
}

/* "12-07 14:00" (withDay) or "14:00" */
function utc(ts, withDay) {
	const iso = new Date(ts * 1000).toISOString();
	return (withDay ? iso.slice(5, 10) + " " : "") + iso.slice(11, 16);
}

function draw(U, box, data, events) {
	const xs = data.buckets.map(b => Date.parse(b.start) / 1000);
	const ys = data.buckets.map(b => b.share === null ? null : 100 * b.share);
	const regime = data.buckets.map(b => b.regime > 0);
	const width = Math.max(280, Math.min(box.clientWidth || 800, 1100));
	const opts = {
		width, height: 260,
		tzDate: ts => U.tzDate(new Date(ts * 1e3), "Etc/UTC"),
		scales: {y: {range: [0, 100]}},
		/* 24-hour UTC times, as everywhere on the page */
		axes: [{space: 60, values: (u, v) => v.map((x, i) => utc(x, false) +
			(i === 0 || utc(x, false) === "00:00" ? "\n" + utc(x, true).slice(0, 5) : ""))},
		    {values: (u, v) => v.map(x => x + "%")}],
		series: [{value: (u, v) => v === null ? "—" : utc(v, true) + " UTC"}, {label: t("tl.share"), stroke: "#c62828", fill: "rgba(198,40,40,.15)",
			width: 2, spanGaps: false, value: (u, v) => v === null ? "—" : v.toFixed(0) + "%"}],
		legend: {show: true},
		hooks: {draw: [u => {
			const c = u.ctx;
			const top = u.bbox.top, h = u.bbox.height;
			c.save();
			/* whitelist / shutdown hours: grey hatching */
			for (let i = 0; i < xs.length; i++) {
				if (!regime[i])
					continue;
				const x0 = u.valToPos(xs[i], "x", true);
				const x1 = u.valToPos(xs[i] + 3600, "x", true);
				c.fillStyle = "rgba(40,53,147,.18)";
				c.fillRect(x0, top, Math.max(1, x1 - x0), h);
			}
			/* events: a line and the new state's glyph */
			c.font = Math.round(12 * devicePixelRatio) + "px sans-serif";
			c.textAlign = "center";
			for (const e of events) {
				const x = u.valToPos(Date.parse(e.time) / 1000, "x", true);
				if (x < u.bbox.left || x > u.bbox.left + u.bbox.width)
					continue;
				c.strokeStyle = "rgba(0,0,0,.45)";
				c.setLineDash([4, 3]);
				c.beginPath();
				c.moveTo(x, top);
				c.lineTo(x, top + h);
				c.stroke();
				c.fillStyle = "#000";
				c.fillText(GLYPH[e.to] || "•", x, top + 12 * devicePixelRatio);
			}
			c.restore();
		}]},
	};
	return new U(opts, [xs, ys], box);
}

export async function render(ctx) {
	const st = ctx.state;
	const doc = await ctx.loadRows();
	if (!ctx.alive())
		return;
	const svc = ctx.effService(doc, true);
	const hours = Math.max(24, st.hours);
	const where = st.asn ? (st.region ? regionName(st.region, ctx.lang) + " " : "") + "AS" + st.asn :
	    st.region ? regionName(st.region, ctx.lang) : t("tl.all");
	const head = el("h2", {}, t("tl.title", svc || "—", where), " ", el("small", {}, t("hours." + hours)));
	if (!svc) {
		ctx.main.replaceChildren(head, note(t("map.empty")));
		return;
	}
	const params = {service: svc, region: st.region, asn: st.asn, since: hoursAgo(hours)};
	const [data, evs, U] = await Promise.all([series(params),
	    getEvents(Object.assign({first: "none"}, params)).then(d => d.events, () => []),
	    loadUplot()]);
	if (!ctx.alive())
		return;
	const box = el("div", {class: "chart", id: "chart"});
	const parts = [head];
	if (data.source !== "history")
		parts.push(note(t("tl.fallback")));
	parts.push(box);
	if (!U)
		box.appendChild(note(t("tl.nochart"), "err"));
	parts.push(el("p", {class: "small"}, t("tl.legend")));
	/* every hour as a table (also what a screen reader reads) */
	const tb = el("table", {class: "hours"}, el("tr", {}, el("th", {}, t("col.hour")), el("th", {}, t("tl.share")),
	    el("th", {}, data.source === "history" ? t("col.cells") : t("col.meas")), el("th", {}, t("col.regime"))));
	for (const b of data.buckets.slice().reverse())
		tb.appendChild(el("tr", {dataset: {start: b.start}}, el("td", {}, fmtTime(b.start)),
		    el("td", {}, b.share === null ? "—" : pct(b.share)), el("td", {}, b.cells),
		    el("td", {}, b.whitelist ? stateBadge("whitelist") : "", b.shutdown ? stateBadge("shutdown") : "")));
	const evt = el("ul", {class: "tl-events"}, evs.slice().reverse().slice(0, 50).map(e => el("li", {},
	    fmtTime(e.time) + " " + regionName(e.region, ctx.lang) + " AS" + e.asn + " ", stateBadge(e.from), " → ", stateBadge(e.to))));
	parts.push(el("h3", {}, t("view.events")), evs.length ? evt : note(t("ev.none")),
	    el("details", {}, el("summary", {}, t("tl.table")), el("div", {class: "scroll"}, tb)));
	ctx.main.replaceChildren(...parts);
	if (U) {
		try {
			draw(U, box, data, evs);
		} catch (e) {
			box.replaceChildren(note(t("tl.nochart") + ": " + e.message, "err"));
		}
	}
}
