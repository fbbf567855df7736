// dashboard.js BASE APPJS — runs the dashboard's app.js under node against
// a running aggregator, with a minimal DOM (the page only creates elements,
// sets text, classes and handlers), and checks what it renders: the map
// table with regions, ASNs, services and verdict colours, the detail of a
// clicked cell with its targets, the agents and the events.
"use strict";
const fs = require("fs");
const vm = require("vm");
const [base, appjs] = process.argv.slice(2);

class FakeNode {
	constructor(tag) {
		this.tagName = tag; this.children = []; this.text = "";
		this.className = ""; this.title = ""; this.hidden = false;
		this.onclick = null; this.value = "";
	}
	set textContent(v) { this.text = String(v); this.children = []; }
	get textContent() { return this.text + this.children.map(c => c.textContent).join(" "); }
	appendChild(c) { this.children.push(c); return c; }
	append(...cs) { for (const c of cs) this.appendChild(c); }
	replaceChildren(...cs) { this.children = []; this.text = ""; this.append(...cs); }
	all() { return [this, ...this.children.flatMap(c => c.all())]; }
}
const ids = {};
for (const id of ["range", "service", "controls", "status", "map", "detail",
    "events", "agents"])
	ids[id] = new FakeNode("div");
ids.range.value = "24";
const ctx = {
	document: {
		createElement: t => new FakeNode(t),
		getElementById: id => ids[id],
	},
	Node: FakeNode,
	fetch: (p, o) => fetch(base + "/" + p, o),
	setInterval: () => 0,
	console, Date, Math, Promise, Error, Number, String, Set,
	encodeURIComponent,
};
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(appjs, "utf8"), ctx);

let fails = 0;
function check(cond, what) {
	console.log((cond ? "ok   " : "FAIL ") + what);
	if (!cond)
		fails++;
}

(async () => {
	await vm.runInContext("refresh()", ctx);
	check(ids.status.textContent.startsWith("updated"), "dashboard: refresh worked (" + ids.status.textContent + ")");
	const rows = ids.map.children;
	const head = rows[0] ? rows[0].children.map(c => c.textContent) : [];
	check(head.includes("web") && head.includes("closed"), "dashboard map: services as columns " + JSON.stringify(head));
	check(head.includes("closed/calls") && head.includes("closed/messaging") && !head.includes("web/calls"),
	    "dashboard map: a service's calls and messaging parts as columns " + JSON.stringify(head));
	const partsCell = ids.map.all().find(n => n.className.startsWith("cell ") && n.title.includes("calls down, messaging down"));
	check(partsCell !== undefined, "dashboard map: a cell with both parts names their verdicts on hover");
	const first = rows.map(r => r.children[0] && r.children[0].textContent);
	check(first.includes("RU-MOW") && first.includes("RU-SPE") && first.includes("AS64501") && !first.includes("DE-BE"),
	    "dashboard map: probe regions and their ASNs as rows " + JSON.stringify(first));
	const cells = ids.map.all().filter(n => n.className.startsWith("cell "));
	check(cells.some(c => c.className.includes("v-ok")) && cells.some(c => c.className.includes("v-down")),
	    "dashboard map: cells coloured by verdict");
	const asnCell = cells.find(c => c.title.includes("blocked share"));
	check(asnCell !== undefined, "dashboard map: ASN cells carry blocked share on hover");
	if (asnCell) {
		asnCell.onclick();
		const t = ids.detail.textContent;
		check(!ids.detail.hidden && t.includes("127.0.0.1") && t.includes("blocked share"),
		    "dashboard map: a click lists the cell's targets");
	}
	check(ids.agents.children.length === 4, "dashboard agents: header and three agents");
	check(ids.events.children.length >= 3, "dashboard events: the cells' first states");
	process.exit(fails ? 1 : 0);
})().catch(e => { console.log("FAIL dashboard: " + e); process.exit(1); });
