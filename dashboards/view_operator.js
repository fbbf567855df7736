/*
 * view_operator.js — the operator's views, never shown in the public
 * view: agents (/api/v1/agents) and the measurement explorer
 * (/api/v1/measurements, paginated by cursor), whose detail shows the
 * raw signed record and how to verify it offline (docs/DATA.md
 * "Verifying").
 */
import {t} from "./i18n.js";
import {regionName} from "./regions.js";
import {el, stateBadge, fmtTime, hoursAgo, note, asnText} from "./common.js";
import {getJSON} from "./api.js";

export async function renderAgents(ctx) {
	const doc = await getJSON("api/v1/agents");
	if (!ctx.alive())
		return;
	const cols = ["col.name", "col.key", "col.region", "col.asn", "col.role", "col.network", "col.state",
	    "col.lastseen", "col.backlog", "col.dropped", "col.stored", "col.rejected", "col.version", "col.list", "col.clock"];
	const table = el("table", {class: "agents"}, el("tr", {}, cols.map(k => el("th", {}, t(k)))));
	for (const a of doc.agents) {
		const off = a.clock_offset_ms;
		table.appendChild(el("tr", {class: "agent state-" + a.state, dataset: {key: a.agent}},
		    el("td", {}, a.name || "—"),
		    el("td", {class: "mono", title: a.agent}, a.agent.slice(0, 12) + "…"),
		    el("td", {}, a.region ? regionName(a.region, ctx.lang) + " (" + a.region + ")" : "—"),
		    el("td", {}, asnText(a.asn)), el("td", {}, a.role), el("td", {}, a.network || "—"),
		    el("td", {class: "ag-" + a.state}, t("agent." + a.state)),
		    el("td", {}, fmtTime(a.last_seen)), el("td", {}, a.backlog), el("td", {}, a.dropped),
		    el("td", {}, a.stored), el("td", {class: a.rejected ? "err" : ""},
		    a.rejected === undefined ? "—" : a.rejected), el("td", {}, a.version || "—"), el("td", {}, a.list_version || "—"),
		    el("td", {class: off !== null && Math.abs(off) > 5000 ? "warn" : ""},
			off === null || off === undefined ? "—" : off + " ms")));
	}
	const tl = doc.testlist;
	ctx.main.replaceChildren(el("h2", {}, t("view.agents"), " ", el("small", {}, t("n.agents", doc.agents.length))),
	    el("p", {class: "small"}, tl ? t("agents.list", tl.version, fmtTime(tl.expires), tl.tests) +
		(tl.expired ? " " + t("agents.expired") : "") : t("agents.nolist")),
	    el("div", {class: "scroll"}, table));
}

/* a short Python program that checks this one record's signature, as
   docs/DATA.md's recipe does for a file */
export function verifySnippet(rec) {
	return [
		"# pip install pynacl  (Debian: apt-get install python3-nacl)",
		"import base64",
		"from nacl.signing import VerifyKey",
		"key = VerifyKey(bytes.fromhex(\"" + rec.agent + "\"))",
		"signed = base64.b64decode(\"" + rec.signed + "\")",
		"sig = base64.b64decode(\"" + rec.sig + "\")",
		"assert signed.startswith(b\"zond/measurement/v1\\x00\"), \"not a measurement\"",
		"key.verify(signed, sig)  # raises BadSignatureError if forged",
		"print(\"valid: id " + rec.id + " signed by agent " + rec.agent.slice(0, 16) + "…\")",
	].join("\n");
}

function detail(ctx, rec) {
	const box = document.getElementById("meas-detail");
	const json = JSON.stringify(rec, null, 2);
	const snippet = verifySnippet(rec);
	const copy = (text, b) => {
		if (navigator.clipboard)
			navigator.clipboard.writeText(text).then(() => { b.textContent = t("ex.copied"); }, () => {});
	};
	const b1 = el("button", {type: "button"}, t("ex.copy"));
	b1.addEventListener("click", () => copy(snippet, b1));
	const b2 = el("button", {type: "button"}, t("ex.copy"));
	b2.addEventListener("click", () => copy(json, b2));
	box.replaceChildren(
	    el("h3", {}, t("ex.detail"), " ", el("span", {class: "mono"}, rec.id)),
	    el("p", {}, stateBadge(rec.verdict), rec.method ? " (" + rec.method + ")" : "",
		rec.where ? " @" + rec.where : "", rec.reason ? " — " + rec.reason : "",
		" · " + t("ex.failure") + " " + ((rec.outcome && rec.outcome.failure) || "—")),
	    el("h4", {}, t("ex.verify"), " ", b1),
	    el("p", {class: "small"}, t("ex.verify.hint")),
	    el("pre", {class: "snippet"}, snippet),
	    el("h4", {}, t("ex.raw"), " ", b2),
	    el("pre", {class: "raw"}, json));
	box.hidden = false;
	box.dataset.id = rec.id;
}

/* another page of the same filters, outside the router (the URL stays) */
function page(ctx) {
	document.body.dataset.ready = "0";
	renderExplorer(ctx).then(() => { document.body.dataset.ready = "1"; }, e => {
		ctx.main.appendChild(note(String(e.message || e), "err"));
		document.body.dataset.ready = "1";
	});
}

let pages = [];	/* cursors of the pages before the current one */
let lastKey = "";

export async function renderExplorer(ctx) {
	const st = ctx.state;
	const key = [st.service, st.region, st.asn, st.hours].join("|");
	if (key !== lastKey) {
		pages = [null];
		lastKey = key;
	}
	const cursor = pages[pages.length - 1];
	const svc = st.service === "@calls" ? "" : st.service;
	const doc = await getJSON("api/v1/measurements", {service: svc, region: st.region, asn: st.asn,
	    since: hoursAgo(st.hours), limit: 50, cursor});
	if (!ctx.alive())
		return;
	const filters = [svc, st.region, st.asn && "AS" + st.asn].filter(Boolean).join(" · ") || t("ex.all");
	const head = el("h2", {}, t("view.explorer"), " ", el("small", {}, filters + " · " + t("hours." + st.hours)));
	const table = el("table", {class: "meas"}, el("tr", {}, ["col.time", "col.region", "col.asn", "col.service",
	    "col.test", "col.target", "col.verdict"].map(k => el("th", {}, t(k)))));
	for (const m of doc.items) {
		const tr = el("tr", {class: "meas", tabindex: "0", dataset: {id: m.id}},
		    el("td", {}, fmtTime(m.time || m.start)), el("td", {}, m.region || "—"), el("td", {}, asnText(m.asn)),
		    el("td", {}, m.service), el("td", {}, m.test), el("td", {class: "mono"}, m.target),
		    el("td", {}, stateBadge(m.verdict), m.method ? " " + m.method : ""));
		tr.addEventListener("click", () => {
			for (const x of table.querySelectorAll("tr.sel"))
				x.classList.remove("sel");
			tr.classList.add("sel");
			detail(ctx, m);
		});
		tr.addEventListener("keydown", ev => { if (ev.key === "Enter") tr.click(); });
		table.appendChild(tr);
	}
	const prev = el("button", {type: "button", disabled: pages.length < 2}, "← " + t("ex.newer"));
	prev.addEventListener("click", () => { pages.pop(); page(ctx); });
	const next = el("button", {type: "button", disabled: !doc.next_cursor}, t("ex.older") + " →");
	next.addEventListener("click", () => { pages.push(doc.next_cursor); page(ctx); });
	const det = el("section", {id: "meas-detail", hidden: true});
	ctx.main.replaceChildren(head, doc.items.length ? el("div", {class: "scroll"}, table) : note(t("ex.none")),
	    el("div", {class: "pager"}, prev, " ", next), det);
}
