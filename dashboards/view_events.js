/*
 * view_events.js — the events feed: cell state changes, newest first,
 * filtered by service, region, ASN (URL keys) and kind.  A cell's first
 * judgement (from "insufficient") is marked "first seen"; first
 * judgements to ok are left out unless kind=first (docs/API.md `first`).
 * Each row links to its cell (the ISP view) and its timeline.
 */
import {t} from "./i18n.js";
import {regionName} from "./regions.js";
import {el, stateBadge, fmtTime, hoursAgo, note, asnText, isBlocked} from "./common.js";
import {getEvents} from "./api.js";

const KINDS = ["", "block", "unblock", "regime", "first"];

/* does event e belong to kind k */
function ofKind(e, k) {
	switch (k) {
	case "block":
		return isBlocked(e.to) || e.to === "partial";
	case "unblock":
		return isBlocked(e.from) && !isBlocked(e.to);
	case "regime":
		return ["whitelist", "shutdown"].includes(e.to) || ["whitelist", "shutdown"].includes(e.from);
	case "first":
		return e.first === true;
	default:
		return true;
	}
}

export async function render(ctx) {
	const st = ctx.state;
	const hours = Math.max(24, st.hours);
	const svc = st.service === "@calls" ? "" : st.service;
	const doc = await getEvents({service: svc, region: st.region, asn: st.asn,
	    since: hoursAgo(hours), first: st.kind === "first" ? "all" : "news"});
	if (!ctx.alive())
		return;
	const evs = doc.events.filter(e => ofKind(e, st.kind) &&
	    (st.service !== "@calls" || e.service.endsWith("/calls"))).reverse();
	const kind = el("select", {id: "kind", "aria-label": t("ev.kind")},
	    KINDS.map(k => el("option", {value: k, selected: k === st.kind}, t("kind." + (k || "all")))));
	kind.addEventListener("change", () => ctx.go({kind: kind.value}));
	const filters = [st.service && t("ctl.service") + " " + st.service, st.region && regionName(st.region, ctx.lang),
	    st.asn && "AS" + st.asn].filter(Boolean);
	const head = el("h2", {}, t("view.events"), " ", el("small", {}, t("hours." + hours)));
	const bar = el("div", {class: "filters"}, el("label", {}, t("ev.kind") + " ", kind),
	    filters.length ? [" ", el("span", {}, filters.join(" · ")), " ",
		el("a", {href: ctx.href({service: "", region: "", asn: ""})}, t("ev.clear"))] : "");
	if (!evs.length) {
		ctx.main.replaceChildren(head, bar, note(t("ev.none")));
		return;
	}
	const table = el("table", {class: "events"}, el("tr", {}, ["col.time", "col.region", "col.asn",
	    "col.service", "col.change", "col.method", ""].map(k => el("th", {}, k ? t(k) : ""))));
	for (const e of evs.slice(0, 500)) {
		const cell = {region: e.region, asn: String(e.asn), service: e.service};
		table.appendChild(el("tr", {class: "event" + (e.first ? " first" : ""),
		    dataset: {region: e.region, asn: String(e.asn), service: e.service, to: e.to}},
		    el("td", {}, fmtTime(e.time)),
		    el("td", {}, el("a", {href: ctx.href({view: "events", region: e.region})}, regionName(e.region, ctx.lang))),
		    el("td", {}, asnText(e.asn)),
		    el("td", {}, e.service),
		    el("td", {}, e.first ? [el("span", {class: "first-seen"}, t("ev.first")), " "] : "",
			stateBadge(e.from), " → ", stateBadge(e.to), e.retracted ? " " + t("ev.retracted") : ""),
		    el("td", {}, e.method || "—"),
		    el("td", {class: "links"}, el("a", {class: "to-cell", href: ctx.href(Object.assign({view: "isp"}, cell))}, t("link.cell")),
			" ", el("a", {href: ctx.href(Object.assign({view: "timeline"}, cell))}, t("link.timeline")))));
	}
	ctx.main.replaceChildren(head, bar, el("div", {class: "scroll"}, table),
	    evs.length > 500 ? note(t("ev.more", evs.length - 500)) : "");
}
