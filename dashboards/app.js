/*
 * Zond dashboard: reads /api/v1/map, /api/v1/events and /api/v1/agents
 * every 10 s and renders three tables.  Every value from the API is
 * inserted as text (textContent), never as HTML, since names and targets
 * come from the network.
 */
"use strict";

const REFRESH_MS = 10000;
let lastMap = null;
let selected = null;	/* "region|service" of the open detail */

function el(tag, text, cls) {
	const e = document.createElement(tag);
	if (text !== undefined && text !== null)
		e.textContent = String(text);
	if (cls)
		e.className = cls;
	return e;
}

function row(cells, tag) {
	const tr = el("tr");
	for (const c of cells)
		tr.appendChild(c instanceof Node ? c : el(tag || "td", c));
	return tr;
}

function pct(x) {
	return Math.round(100 * x) + "%";
}

function query() {
	const hours = Number(document.getElementById("range").value);
	const since = new Date(Date.now() - hours * 3600e3).toISOString();
	const svc = document.getElementById("service").value.trim();
	let q = "since=" + encodeURIComponent(since.replace(/\.\d+Z$/, "Z"));
	if (svc)
		q += "&service=" + encodeURIComponent(svc);
	return q;
}

async function getJSON(path) {
	const r = await fetch(path, {cache: "no-store"});
	const body = await r.json();
	if (!r.ok)
		throw new Error(path + ": " + (body.error || r.status));
	return body;
}

/* "blocked (tls) @isp": where the censor sits when known (docs/API.md) */
function cellText(c) {
	return c.verdict + (c.method ? " (" + c.method + ")" : "") +
	    (c.where && c.where !== "unknown" ? " @" + c.where : "");
}

/* ", calls blocked, messaging ok" for a cell or region row with parts */
function facetText(c) {
	return c.facets ? ", calls " + c.facets.calls + ", messaging " + c.facets.messaging : "";
}

/* ", censor at isp (isp 5, upstream 1, unknown 0; hops 3:5)" */
function whereText(c) {
	if (!c.where)
		return "";
	const w = c.where_counts;
	return ", censor at " + c.where + (w ? " (isp " + w.isp + ", upstream " + w.upstream +
	    ", unknown " + w.unknown + (c.where_hops.length ? "; hops " +
	    c.where_hops.map(h => h.hop + ":" + h.count).join(" ") : "") + ")" : "");
}

function renderMap(m) {
	const t = document.getElementById("map");
	t.replaceChildren();
	const services = [...new Set(m.cells.map(c => c.service))].sort();
	const regions = [...new Set(m.cells.map(c => c.region))].sort();
	if (services.length === 0) {
		t.appendChild(row(["no judged measurements in this window"]));
		return;
	}
	t.appendChild(row(["region / ASN", ...services], "th"));
	for (const reg of regions) {
		const cells = [el("td", reg)];
		for (const s of services) {
			const rr = m.regions.find(x => x.region === reg && x.service === s);
			if (!rr) {
				cells.push(el("td", ""));
				continue;
			}
			const td = el("td", cellText(rr), "cell v-" + rr.verdict);
			td.title = rr.asns + " network(s), " + rr.agents + " agent(s)" +
			    (rr.blocked_asns.length ? ", blocked on AS" + rr.blocked_asns.join(", AS") : "") +
			    (rr.agent_anomaly ? ", " + rr.agent_anomaly + " agent anomaly(ies)" : "") +
			    whereText(rr) + facetText(rr);
			td.onclick = () => { selected = reg + "|" + s; renderDetail(); };
			cells.push(td);
		}
		t.appendChild(row(cells));
		const asns = [...new Set(m.cells.filter(c => c.region === reg).map(c => c.asn))].sort((a, b) => a - b);
		for (const asn of asns) {
			const cs = [el("td", "AS" + asn)];
			for (const s of services) {
				const c = m.cells.find(x => x.region === reg && x.asn === asn && x.service === s);
				if (!c) {
					cs.push(el("td", ""));
					continue;
				}
				const td = el("td", cellText(c), "cell v-" + c.verdict);
				td.title = "blocked share " + pct(c.blocked_share) + ", confidence " +
				    c.confidence.toFixed(2) + ", " + c.measurements + " measurements from " +
				    c.agents + " agent(s)" +
				    (c.agent_anomaly ? ", " + c.agent_anomaly + " flagged as agent anomaly" : "") +
				    whereText(c) + facetText(c);
				td.onclick = () => { selected = reg + "|" + s; renderDetail(); };
				cs.push(td);
			}
			const tr = row(cs);
			tr.className = "asn";
			t.appendChild(tr);
		}
	}
}

function renderDetail() {
	const d = document.getElementById("detail");
	if (!selected || !lastMap) {
		d.hidden = true;
		return;
	}
	const [reg, svc] = selected.split("|");
	const cells = lastMap.cells.filter(c => c.region === reg && c.service === svc);
	d.replaceChildren();
	d.hidden = false;
	const close = el("button", "close");
	close.onclick = () => { selected = null; renderDetail(); };
	d.append(el("strong", svc + " in " + reg + " "), close);
	for (const c of cells) {
		d.appendChild(el("p", "AS" + c.asn + ": " + cellText(c) + ", blocked share " +
		    pct(c.blocked_share) + ", confidence " + c.confidence.toFixed(2) +
		    ", " + c.measurements + " measurements, " + c.agents + " agent(s)" +
		    whereText(c) + facetText(c)));
		const t = el("table");
		t.appendChild(row(["target", "test", "verdict", "method", "measurements"], "th"));
		for (const x of c.targets)
			t.appendChild(row([x.target, x.test, x.verdict, x.method || "-", x.measurements]));
		d.appendChild(t);
	}
	if (cells.length === 0)
		d.appendChild(el("p", "no data in this window"));
}

function renderEvents(e) {
	const t = document.getElementById("events");
	t.replaceChildren(row(["time", "region", "ASN", "service", "from", "to", "method"], "th"));
	const evs = e.events.slice().reverse().slice(0, 50);
	for (const x of evs) {
		const tr = row([x.time, x.region, x.asn, x.service, x.from, x.to, x.method || "-"]);
		tr.children[5].className = "v-" + x.to;
		t.appendChild(tr);
	}
	if (evs.length === 0)
		t.appendChild(row(["no state changes in this window"]));
}

function renderAgents(a) {
	const t = document.getElementById("agents");
	t.replaceChildren(row(["name", "region", "ASN", "role", "state", "last seen",
	    "backlog", "dropped", "stored", "version"], "th"));
	for (const x of a.agents)
		t.appendChild(row([x.name || x.agent.slice(0, 12), x.region, x.asn, x.role,
		    x.state, x.last_seen || "never", x.backlog, x.dropped, x.stored,
		    x.version || "-"]));
}

async function refresh() {
	const st = document.getElementById("status");
	const q = query();
	try {
		const [m, e, a] = await Promise.all([getJSON("api/v1/map?" + q),
		    getJSON("api/v1/events?" + q), getJSON("api/v1/agents")]);
		lastMap = m;
		renderMap(m);
		renderDetail();
		renderEvents(e);
		renderAgents(a);
		st.textContent = "updated " + new Date().toLocaleTimeString();
		st.className = "";
	} catch (err) {
		st.textContent = String(err.message || err);
		st.className = "err";
	}
}

document.getElementById("range").onchange = refresh;
document.getElementById("service").onchange = refresh;
document.getElementById("controls").onsubmit = ev => { ev.preventDefault(); refresh(); };
refresh();
setInterval(refresh, REFRESH_MS);
