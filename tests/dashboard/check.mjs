// check.mjs --base URL --truth FILE --python PY --chromium PATH --tmp DIR
//           [--public URL]
// The dashboard against a running zond-aggregator serving the `small`
// scenario of dashboard_seed (run.sh): first the API against truth.json,
// then the page in headless chromium against the API, per the DOM contract
// of docs/API.md "Dashboard".  Prints one "ok"/"FAIL" line per check and
// exits 1 if any failed.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { getJSON, launch, open, ready, view } from "./lib.mjs";

const { values: A } = parseArgs({ options: {
	base: { type: "string" }, truth: { type: "string" },
	python: { type: "string", default: "/usr/bin/python3" },
	chromium: { type: "string", default: "/usr/bin/chromium" },
	tmp: { type: "string", default: "/tmp" }, public: { type: "string" },
	token: { type: "string" },
} });
// the operator token ([http] token), sent on every API request of ours
const H = A.token ? { Authorization: "Bearer " + A.token } : {};
const truth = JSON.parse(fs.readFileSync(A.truth, "utf8"));
let pass = 0, fail = 0;
function ok(c, what, why) {
	if (c) { pass++; console.log(`ok   ${what}`); }
	else { fail++; console.log(`FAIL ${what}${why ? ": " + why : ""}`); }
	return c;
}
// A group of page checks; after a page that never painted (no
// body[data-ready="1"]: the page does not keep the DOM contract) the rest
// fail at once instead of each waiting out its timeout.
let painted = null;
async function step(what, fn) {
	if (painted === false) return ok(false, what, "skipped: the page never set body[data-ready=\"1\"]");
	try { await fn(); } catch (e) {
		ok(false, what, e.message.split("\n")[0]);
		if (painted === null && /data-ready/.test(e.message)) painted = false;
	}
	if (painted === null) painted = true;
}

// The 83 subjects of ISO 3166-2:RU, which every map must draw.
const ISO_RU = ("AD AL BA BU CE CU DA IN KB KL KC KR KK KO ME MO SA SE TA TY " +
	"UD ALT KAM KHA KDA KYA PER PRI STA ZAB AMU ARK AST BEL BRY CHE IRK " +
	"IVA KGD KLU KEM KIR KOS KGN KRS LEN LIP MAG MOS MUR NIZ NGR NVS OMS " +
	"ORE ORL PNZ PSK ROS RYA SAM SAR SAK SVE SMO TAM TVE TOM TUL TYU ULY " +
	"VLA VGG VLG VOR YAR MOW SPE YEV CHU KHM NEN YAN").split(" ").map((c) => "RU-" + c);
const HEX64 = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/i;
const key = (...a) => a.join("|");

// ---------------------------------------------------------------- API
const mapNow = (await getJSON(A.base + "/api/v1/map?sample=latest", H)).json;
const apiCell = new Map(mapNow.cells.map((c) => [key(c.region, c.asn, c.service), c]));
const apiRow = new Map(mapNow.regions.map((r) => [key(r.region, r.service), r]));
{
	const bad = truth.cells.filter((c) => {
		const a = apiCell.get(key(c.region, c.asn, c.service));
		return !a || a.verdict !== c.state || a.method !== c.method || a.agents !== c.agents;
	});
	ok(bad.length === 0, `API: all ${truth.cells.length} cells of the state now as seeded (verdict, method, agents)`,
		bad.slice(0, 3).map((c) => `${c.region}/${c.asn}/${c.service} want ${c.state}/${c.method}` +
			` got ${JSON.stringify(apiCell.get(key(c.region, c.asn, c.service))?.verdict)}`).join("; "));
	const badr = truth.regions.filter((r) => {
		const a = apiRow.get(key(r.region, r.service));
		return !a || a.verdict !== r.state || a.agents !== r.agents ||
			(r.state === "partial" && JSON.stringify(a.blocked_asns) !== JSON.stringify(r.blocked_asns));
	});
	ok(badr.length === 0, `API: all ${truth.regions.length} region rows as seeded (partial RU-MOW youtube, whitelist RU-KDA)`,
		badr.slice(0, 3).map((r) => `${r.region}/${r.service} want ${r.state} got ${apiRow.get(key(r.region, r.service))?.verdict}`).join("; "));
	const ev = (await getJSON(A.base + "/api/v1/events?service=youtube&region=RU-MOW&asn=64501", H)).json;
	ok(ev && ev.events.some((e) => e.from === "ok" && e.to === "blocked" && e.time === truth.change),
		"API: the youtube block in RU-MOW AS 64501 is an event at the seeded change");
}

// ---------------------------------------------------------------- page
const { ctx, close } = await launch(A.chromium);
const page = await ctx.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
// a failed request is counted by its URL (the console's "Failed to load
// resource" line names none); the optional operator-supplied GeoJSON
// (docs/DASHBOARD.md) may be absent, and /api/v1/info too on an
// aggregator without the public view
page.on("console", (m) => {
	if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) errors.push(m.text());
});
// (a 401 before the page was given the token is how it learns to ask)
let authed = !A.token;
page.on("response", (r) => {
	const u = new URL(r.url()).pathname;
	if (r.status() === 401 && !authed)
		return;
	if (r.status() >= 400 && u !== "/regions.geojson" && (A.public || u !== "/api/v1/info"))
		errors.push(`${r.status()} ${r.url()}`);
});

// every tile of a map view: {region: state}
const tiles = () => page.$$eval(".tile[data-region]", (ts) => ts.map((t) => [t.dataset.region, t.dataset.state]));
const services = truth.services;
const withAgents = new Set(truth.regions_with_agents);

if (A.token) await step("operator token", async () => {
	const r = await fetch(A.base + "/api/v1/map");
	ok(r.status === 401 && /^Bearer/.test(r.headers.get("www-authenticate") ?? ""),
		"token: the API without it is 401 with WWW-Authenticate: Bearer", String(r.status));
	const i0 = (await getJSON(A.base + "/api/v1/info")).json, i1 = (await getJSON(A.base + "/api/v1/info", H)).json;
	ok(i0?.auth === true && i0?.authorized === false && i1?.authorized === true,
		"token: /api/v1/info says auth, and authorized only with the token");
	await page.goto(A.base + "/#/map?service=youtube", { waitUntil: "domcontentloaded" });
	const field = await page.waitForSelector("input[type=password]", { state: "visible" });
	ok(!!field, "token: the page asks for it");
	await field.fill(A.token);
	await field.press("Enter");
	await ready(page);
	authed = true;
	const n = await page.$$eval(".tile[data-region]", (ts) => ts.length);
	ok(n >= 83, `token: once given, the map is drawn (${n} tiles)`);
});
authed = true;

await step("map view", async () => {
	await open(page, A.base, `#/map?service=${services[0]}`, undefined, A.token);
	for (const svc of services) {
		await view(page, `#/map?service=${svc}`);
		const t = await tiles();
		const regs = t.map(([r]) => r);
		ok(ISO_RU.every((r) => regs.filter((x) => x === r).length === 1),
			`map ${svc}: all 83 subjects drawn, each once (${t.length} tiles)`,
			ISO_RU.filter((r) => !regs.includes(r)).slice(0, 5).join(" "));
		const bad = [];
		for (const [r, s] of t) {
			const row = apiRow.get(key(r, svc));
			const want = row ? row.verdict : withAgents.has(r) ? "insufficient" : "nodata";
			if (s !== want) bad.push(`${r} ${s}≠${want}`);
		}
		ok(bad.length === 0, `map ${svc}: every tile's data-state is the API's state now (nodata where no agents)`, bad.slice(0, 5).join(", "));
	}
	const t = Object.fromEntries(await tiles());
	ok(t["RU-YAR"] === "nodata" && t["RU-MOW"] !== "nodata", "map: a region without agents is nodata, one with agents is not");
});

// matrix cells: service x region and region x ISP
async function cellsOf() {
	return page.$$eval("td.cell[data-region][data-state]", (cs) => cs.map((c) => ({
		region: c.dataset.region, service: c.dataset.service ?? null,
		asn: c.dataset.asn != null ? Number(c.dataset.asn) : null,
		state: c.dataset.state, text: c.textContent })));
}
await step("matrix view", async () => {
	await view(page, "#/matrix");
	const cs = (await cellsOf()).filter((c) => c.asn === null && c.service);
	const bad = [];
	for (const r of truth.regions) {
		if (r.service.includes("/")) continue;
		const c = cs.find((x) => x.region === r.region && x.service === r.service);
		if (!c || c.state !== r.state) bad.push(`${r.region}/${r.service} ${c?.state}≠${r.state}`);
	}
	ok(cs.length > 0 && bad.length === 0, `matrix: service x region cells match the API (${cs.length} cells)`, bad.slice(0, 4).join(", "));
	// the partial cell: its verdict, method, confidence, agents and ASNs,
	// and since when (the seeded change, from the events)
	const mow = cs.find((x) => x.region === "RU-MOW" && x.service === "youtube");
	const since = truth.change.slice(0, 16).replace("T", " ");
	ok(mow && /partial|some/i.test(mow.text) && /tcp/.test(mow.text) && /\b9\b/.test(mow.text) &&
		/\b3\b/.test(mow.text) && /0\.\d\d/.test(mow.text) && mow.text.includes(since),
		`matrix: the partial cell shows verdict, method, confidence, 9 agents, 3 ASNs, since ${since}`, mow?.text);
	const wa = cs.find((x) => x.region === "RU-MOW" && x.service === "whatsapp");
	ok(wa && /udp/i.test(wa.text) && /\d/.test(wa.text), "matrix: a blocked cell shows its method (udp) and figures", wa?.text);
});
await step("ISP matrix", async () => {
	let cs = [];
	for (const h of ["#/matrix?service=youtube", "#/isp?service=youtube", "#/isp?service=youtube&region=RU-MOW"]) {
		await view(page, h);
		cs = (await cellsOf()).filter((c) => c.asn !== null);
		if (cs.length) break;
	}
	const bad = cs.filter((c) => {
		const a = apiCell.get(key(c.region, c.asn, c.service ?? "youtube"));
		return !a || a.verdict !== c.state;
	});
	ok(cs.length > 0 && bad.length === 0, `ISP matrix: region x ISP cells match the API (${cs.length} cells)`,
		bad.slice(0, 4).map((c) => `${c.region}/${c.asn} ${c.state}`).join(", "));
	const c = cs.find((x) => x.region === "RU-MOW" && x.asn === 64501);
	ok(c && /blocked/i.test(c.text) && /tcp/i.test(c.text) && /3/.test(c.text),
		"ISP matrix: RU-MOW AS 64501 shows blocked, tcp and its 3 agents", c?.text);
});

// region -> ISP -> measurement -> its signed record, verified
await step("click-through", async () => {
	await view(page, "#/map?service=youtube");
	await page.evaluate(() => { document.body.dataset.ready = "stale"; });
	await page.click('.tile[data-region="RU-MOW"]');
	// a tile may open a detail with a link to the region's ISPs first
	const link = 'a[href*="#/isp"][href*="region=RU-MOW"]';
	await page.waitForFunction((l) => /region=RU-MOW/.test(location.hash) ||
		[...document.querySelectorAll(l)].some((a) => a.offsetParent !== null), link);
	if (!/region=RU-MOW/.test(await page.evaluate(() => location.hash)))
		await page.click(`${link} >> visible=true`);
	await ready(page);
	ok(/region=RU-MOW/.test(await page.evaluate(() => location.hash)), "click a tile (and its ISPs link): the view of RU-MOW (in the URL)");
	const isp = await page.$('td.cell[data-asn="64501"]');
	ok(!!isp, "RU-MOW's view lists its ISPs (AS 64501)");
	if (!isp) return;
	await page.evaluate(() => { document.body.dataset.ready = "stale"; });
	await isp.click();
	await ready(page);
	ok(/asn=64501/.test(await page.evaluate(() => location.hash)), "click an ISP: its view (asn=64501 in the URL)");
	if (!await page.$("tr.meas[data-id]"))
		await view(page, "#/explorer?service=youtube&region=RU-MOW&asn=64501");
	const rows = await page.$$eval("tr.meas[data-id]", (rs) => rs.map((r) => r.dataset.id));
	ok(rows.length > 0, `explorer: measurements of RU-MOW AS 64501 (${rows.length} rows)`);
	if (!rows.length) return;
	const id = rows[0];
	await page.click(`tr.meas[data-id="${id}"]`);
	await page.waitForSelector("#meas-detail", { state: "visible" });
	await page.waitForFunction((i) => document.querySelector("#meas-detail").textContent.includes(i), id);
	const items = (await getJSON(`${A.base}/api/v1/measurements?service=youtube&region=RU-MOW&asn=64501&limit=1000`, H)).json.items;
	const rec = items.find((x) => x.id === id);
	const detail = await page.textContent("#meas-detail");
	ok(rec && detail.includes(rec.signed) && detail.includes(rec.sig) && detail.includes(rec.agent),
		"#meas-detail shows the raw record (signed bytes, sig, agent key)");
	// the verify snippet: the longest code block that mentions the signature
	const snippet = await page.$$eval("#meas-detail pre, #meas-detail code, #meas-detail textarea",
		(es) => es.map((e) => e.value ?? e.textContent).filter((t) => /verify/i.test(t))
			.sort((a, b) => b.length - a.length)[0] ?? null);
	ok(!!snippet, "#meas-detail has a verify snippet");
	if (!snippet || !rec) return;
	const run = (code) => {
		const f = path.join(A.tmp, "verify.py");
		fs.writeFileSync(f, code);
		try {
			return { rc: 0, out: execFileSync(A.python, [f], { cwd: A.tmp, encoding: "utf8", timeout: 20000, stdio: ["ignore", "pipe", "pipe"] }) };
		} catch (e) { return { rc: e.status ?? 1, out: String(e.stdout) + String(e.stderr) }; }
	};
	const good = run(snippet);
	ok(good.rc === 0, "the verify snippet, run with python3 and PyNaCl, verifies the record", good.out.slice(0, 200));
	// and fails on a forged record: one bit of the signature changed
	const sig = Buffer.from(rec.sig, "base64");
	sig[0] ^= 1;
	const forged = snippet.split(rec.sig).join(sig.toString("base64"));
	const bad = forged !== snippet ? run(forged) : { rc: 0 };
	ok(bad.rc !== 0, "the same snippet with a forged signature fails");
});

// URL state: a link reproduces a view; a filter change survives reload
await step("URL state", async () => {
	await open(page, A.base, "#/events?service=youtube&region=RU-MOW&lang=en", undefined, A.token);
	const evs = await page.$$eval("tr.event", (rs) => rs.map((r) => [r.dataset.region, r.dataset.asn, r.dataset.service]));
	ok(evs.length > 0 && evs.every(([r, , s]) => r === "RU-MOW" && s === "youtube"),
		`a link to the events of youtube in RU-MOW shows only those (${evs.length} rows)`);
	ok(evs.some(([, a]) => a === "64501"), "events: the block of AS 64501 is listed");
	await view(page, "#/matrix?service=youtube");
	const sel = await page.$$("select");
	let changed = false;
	for (const s of sel) {
		const vals = await s.$$eval("option", (os) => os.map((o) => o.value));
		if (vals.includes("telegram")) {
			await page.evaluate(() => { document.body.dataset.ready = "stale"; });
			await s.selectOption("telegram");
			await ready(page);
			changed = true;
			break;
		}
	}
	ok(changed, "a service filter (select with the services) exists");
	const h1 = await page.evaluate(() => location.hash);
	ok(/^#\/matrix\?/.test(h1) && /service=telegram/.test(h1), "changing the filter updates the URL", h1);
	await page.reload({ waitUntil: "domcontentloaded" });
	await ready(page);
	const h2 = await page.evaluate(() => location.hash);
	const selv = await page.$$eval("select", (ss) => ss.map((s) => s.value));
	ok(h2 === h1 && selv.includes("telegram"), "after reload: the same view and filter", `${h1} -> ${h2}`);
});

await step("languages", async () => {
	await open(page, A.base, "#/map?service=youtube&lang=ru", undefined, A.token);
	const ru = (await page.textContent("body")).match(/[А-Яа-яЁё]{3,}/g) ?? [];
	await open(page, A.base, "#/map?service=youtube&lang=en", undefined, A.token);
	const en = (await page.textContent("body")).match(/[А-Яа-яЁё]{3,}/g) ?? [];
	ok(ru.length >= 10 && ru.length > 3 * en.length, `lang=ru shows Russian text (${ru.length} Russian words, ${en.length} with lang=en)`);
});

await step("agents view", async () => {
	await view(page, "#/agents");
	const keys = await page.$$eval("tr.agent[data-key]", (rs) => rs.map((r) => r.dataset.key));
	const want = truth.agents.map((a) => a.key).sort();
	ok(JSON.stringify([...keys].sort()) === JSON.stringify(want), `agents: one row per enrolled agent (${keys.length} of ${want.length})`);
});

await step("timeline and events views", async () => {
	await view(page, "#/timeline?service=youtube&region=RU-MOW");
	ok(await page.$("svg, canvas") !== null, "timeline: a chart is drawn",
		"none (is uPlot vendored into dashboards/? ops/vendor-dashboard)");
	// whitelist hours are marked (and shaded in the chart from the same
	// numbers): RU-KDA's since the seeded change, none in RU-MOW
	const wlRows = async () => page.$$eval("table.hours tr[data-start]", (rs) => rs
		.filter((r) => r.querySelector(".st.v-whitelist")).map((r) => r.dataset.start));
	const mow = await wlRows();
	await view(page, "#/timeline?service=youtube&region=RU-KDA");
	const kda = await wlRows();
	const ch = Date.parse(truth.change) - 3600e3;
	ok(mow.length === 0 && kda.length > 0 && kda.every((s) => Date.parse(s) >= ch),
		`timeline: whitelist hours marked in RU-KDA (${kda.length}, none before the change), none in RU-MOW`,
		JSON.stringify({mow, kda}));
	await view(page, "#/events");
	const n = await page.$$eval("tr.event", (rs) => rs.length);
	const all = (await getJSON(A.base + "/api/v1/events?first=all", H)).json.events;
	const firstOk = all.filter((e) => e.from === "insufficient" && e.to === "ok").length;
	ok(firstOk > 0 && n === all.length - firstOk,
		`events feed: ${n} rows, every event but the ${firstOk} first judgements to ok (of ${all.length})`);
});

ok(errors.length === 0, "no page errors or console errors in the operator view", errors.slice(0, 3).join(" | "));

// phone: no horizontal page scroll in any view
await step("phone", async () => {
	const phone = await launch(A.chromium, { width: 360, height: 740 });
	const p = await phone.ctx.newPage();
	await open(p, A.base, "#/map?service=youtube", undefined, A.token);
	for (const v of ["map?service=youtube", "matrix", "isp?region=RU-MOW", "timeline?service=youtube", "events", "agents", "explorer"]) {
		await view(p, "#/" + v);
		const [sw, cw] = await p.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
		ok(sw <= cw, `phone 360x740 #/${v}: no horizontal page scroll`, `scrollWidth ${sw} > ${cw}`);
	}
	await phone.close();
});

// public view (docs/API.md "Public view"; k = 3)
if (A.public) await step("public view", async () => {
	const info = (await getJSON(A.public + "/api/v1/info")).json;
	ok(info && info.mode === "public" && info.min_agents === 3, "public: /api/v1/info says public, k = 3");
	for (const ep of ["agents", "measurements", "export"]) {
		const r = await getJSON(`${A.public}/api/v1/${ep}`);
		ok(r.status === 403, `public: /api/v1/${ep} is 403`, String(r.status));
	}
	const pg = await ctx.newPage();
	await open(pg, A.public, "#/map?service=whatsapp");
	const t = Object.fromEntries(await pg.$$eval(".tile[data-region]", (ts) => ts.map((x) => [x.dataset.region, x.dataset.state])));
	ok(t["RU-SPE"] === "nodata" || t["RU-SPE"] === "insufficient", "public: RU-SPE (2 agents < k) shows no state", t["RU-SPE"]);
	ok(t["RU-MOW"] === "blocked", "public: RU-MOW (9 agents) shows its state", t["RU-MOW"]);
	for (const v of ["map?service=youtube", "matrix", "isp?region=RU-MOW", "events", "timeline?service=youtube", "agents", "explorer"]) {
		await view(pg, "#/" + v);
		const html = await pg.content();
		ok(!HEX64.test(html), `public #/${v}: no 64-hex key in the page`);
		ok(!/data-asn="64504"/.test(html) && !(await pg.$('td.cell[data-region="RU-SPE"]')),
			`public #/${v}: no cell of RU-SPE or AS 64504`);
		if (v === "agents" || v === "explorer")
			ok(!(await pg.$("tr.agent, tr.meas")), `public #/${v}: no agent or measurement rows`);
	}
	await pg.close();
});

await close();
console.log(`check.mjs: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
