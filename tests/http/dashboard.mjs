// dashboard.mjs BASE DASHDIR — the dashboard's modules under node, against
// a running aggregator (tests/http/http.sh): every module parses, every
// interface string has English and Russian and every key the code asks
// for exists, regions.js holds the 83 ISO 3166-2:RU subjects on distinct
// tiles, the URL state round-trips, the map's region states follow the
// API's region rows, and the explorer's "verify this record yourself"
// snippet, run with python3 and PyNaCl, accepts a real record and refuses
// one with a changed byte.  The browser tests (tests/dashboard/) run the
// page itself in Chromium.
import fs from "node:fs";
import path from "node:path";
import {execFileSync, spawnSync} from "node:child_process";
import {pathToFileURL} from "node:url";

const [base, dir, python = "python3"] = process.argv.slice(2);
let fails = 0;
function check(cond, what) {
	console.log((cond ? "ok   " : "FAIL ") + what);
	if (!cond)
		fails++;
}
const mod = f => import(pathToFileURL(path.join(dir, f)).href);

// ISO 3166-2:RU, the 83 federal subjects (FACTS.md "Regions"), written
// out here independently of regions.js
const ISO = `AD AL ALT AMU ARK AST BA BEL BRY BU CE CHE CHU CU DA IN IRK IVA KAM
KB KC KDA KEM KGD KGN KHA KHM KIR KK KL KLU KO KOS KR KRS KYA LEN LIP MAG ME
MO MOS MOW MUR NEN NGR NIZ NVS OMS ORE ORL PER PNZ PRI PSK ROS RYA SA SAK SAM
SAR SE SMO SPE STA SVE TA TAM TOM TUL TVE TY TYU UD ULY VGG VLA VLG VOR YAN
YAR YEV ZAB`.split(/\s+/).map(c => "RU-" + c);

(async () => {
	// 1. every module parses as a module (the page has no build step)
	const js = fs.readdirSync(dir).filter(f => f.endsWith(".js") && !f.startsWith("uPlot"));
	for (const f of js) {
		const r = spawnSync(process.execPath, ["--input-type=module", "--check"],
		    {input: fs.readFileSync(path.join(dir, f))});
		check(r.status === 0, "dashboard " + f + " parses as a JS module" + (r.status ? ": " + r.stderr : ""));
	}
	const html = fs.readFileSync(path.join(dir, "index.html"), "utf8");
	check(/<script type="module" src="app.js">/.test(html), "index.html loads app.js as a module");

	// 2. strings: en and ru for every key; every key the code uses exists
	const {STRINGS, t, setLang} = await mod("i18n.js");
	const keys = Object.keys(STRINGS);
	const half = keys.filter(k => !(typeof STRINGS[k].en === "string" && STRINGS[k].en &&
	    typeof STRINGS[k].ru === "string" && STRINGS[k].ru));
	check(keys.length > 50 && half.length === 0, "i18n: " + keys.length + " keys, each in en and ru" +
	    (half.length ? "; missing: " + half.join(", ") : ""));
	const noCyr = keys.filter(k => !/[А-Яа-яЁё]/.test(STRINGS[k].ru) && !/^[A-Za-z0-9 .:()/{}%→←×·-]*$/.test(STRINGS[k].ru));
	check(noCyr.length === 0, "i18n: every ru string is Russian" + (noCyr.length ? ": " + noCyr.join(", ") : ""));
	const used = new Set();
	for (const f of js)
		for (const m of fs.readFileSync(path.join(dir, f), "utf8").matchAll(/\bt\("([a-z0-9.]+)"/g))
			used.add(m[1]);
	const {GLYPH, STATES, worst} = await mod("common.js");
	const {VIEW_NAMES, HOURS, parseHash, hashOf} = await mod("route.js");
	for (const s of STATES) used.add("state." + s);
	for (const v of VIEW_NAMES) used.add("view." + v);
	for (const h of HOURS) used.add("hours." + h);
	for (const k of ["all", "block", "unblock", "regime", "first"]) used.add("kind." + k);
	for (const k of ["online", "offline", "never", "disabled"]) used.add("agent." + k);
	for (const k of ["isp", "upstream", "mixed"]) used.add("where." + k);
	for (const f of js)
		for (const m of fs.readFileSync(path.join(dir, f), "utf8").matchAll(/"(col\.[a-z]+)"/g))
			used.add(m[1]);
	const unknown = [...used].filter(k => !k.endsWith(".") && !(k in STRINGS));
	check(unknown.length === 0, "i18n: all " + used.size + " keys the code uses are in the table" +
	    (unknown.length ? "; not: " + unknown.join(", ") : ""));
	setLang("ru");
	check(t("n.agents", 3) === "агентов: 3" && t("state.blocked") === "заблокирован", "i18n: t() in Russian with an argument");
	setLang("en");

	// 3. regions: the 83 ISO codes, names, distinct tiles inside the grid
	const {REGIONS, GRID_W, GRID_H} = await mod("regions.js");
	const codes = REGIONS.map(r => r.code);
	check(REGIONS.length === 83 && new Set(codes).size === 83, "regions: 83 distinct codes (" + REGIONS.length + ")");
	const notIso = codes.filter(c => !ISO.includes(c));
	const missing = ISO.filter(c => !codes.includes(c));
	check(ISO.length === 83 && !notIso.length && !missing.length, "regions: exactly ISO 3166-2:RU" +
	    (notIso.length ? "; not ISO: " + notIso : "") + (missing.length ? "; missing: " + missing : ""));
	const pos = new Set(REGIONS.map(r => r.x + "," + r.y));
	const out = REGIONS.filter(r => !(Number.isInteger(r.x) && Number.isInteger(r.y) && r.x >= 0 && r.x < GRID_W && r.y >= 0 && r.y < GRID_H));
	check(pos.size === 83 && !out.length, "regions: 83 distinct tiles inside the " + GRID_W + "x" + GRID_H + " grid" +
	    (out.length ? "; outside: " + out.map(r => r.code) : ""));
	check(REGIONS.every(r => r.en && /[А-Яа-я]/.test(r.ru)), "regions: every subject has an English and a Russian name");
	const at = c => REGIONS.find(r => r.code === c);
	check(at("RU-KGD").x < at("RU-MOW").x && at("RU-MOW").x < at("RU-SA").x && at("RU-SA").x < at("RU-CHU").x &&
	    at("RU-MUR").y < at("RU-MOW").y && at("RU-MOW").y < at("RU-DA").y,
	    "regions: west to east (Kaliningrad, Moscow, Yakutia, Chukotka), north to south (Murmansk, Moscow, Dagestan)");

	// 4. URL state round-trips; bad values fall back to defaults
	const s1 = parseHash("#/isp?region=RU-MOW&asn=64501&service=web%2Fcalls&hours=6&lang=ru&kind=first");
	check(s1.view === "isp" && s1.region === "RU-MOW" && s1.asn === "64501" && s1.service === "web/calls" &&
	    s1.hours === 6 && s1.lang === "ru" && s1.kind === "first", "url: parsed " + JSON.stringify(s1));
	check(JSON.stringify(parseHash(hashOf(s1))) === JSON.stringify(s1), "url: parse(hashOf(s)) = s (" + hashOf(s1) + ")");
	const s2 = parseHash("#/nope?region=<x>&asn=-1&hours=5&lang=de&service=a%20b&evil=1");
	check(s2.view === "map" && !s2.region && !s2.asn && s2.hours === 24 && !s2.lang && !s2.service && !("evil" in s2),
	    "url: unknown view and bad values fall back " + JSON.stringify(s2));
	check(hashOf(parseHash("")) === "#/map", "url: the default view is #/map");

	// 5. states: the worst wins; the map's tiles follow the API's rows
	check(worst(["ok", "blocked", "down"]) === "blocked" && worst(["ok", "whitelist", "blocked"]) === "whitelist" &&
	    worst([]) === "nodata" && worst(["ok", "insufficient"]) === "ok", "states: worst of several");
	check(STATES.length === 12 && STATES.every(s => s === "nodata" || GLYPH[s]), "states: 12, each with a glyph but nodata (hatched)");
	const map = await (await fetch(base + "/api/v1/map?sample=latest")).json();
	const {regionStates} = await mod("view_map.js");
	const calls = regionStates(map, "@calls");
	const callRows = map.regions.filter(r => r.service.endsWith("/calls"));
	check(callRows.length > 0 && callRows.every(r => ["ok", "blocked", "throttled", "down", "partial", "insufficient",
	    "geoblocked", "filtered", "review", "whitelist", "shutdown"].includes(calls.get(r.region).state)) &&
	    [...calls].every(([reg, st]) => st.state === worst(map.regions.filter(r => r.region === reg &&
		r.service.endsWith("/calls")).map(r => r.verdict))),
	    "map: any call service = the worst /calls region row (" + [...calls].map(([r, s]) => r + " " + s.state).join(", ") + ")");
	const web = regionStates(map, "web");
	const mow = map.regions.find(r => r.region === "RU-MOW" && r.service === "web");
	check(mow && web.get("RU-MOW").state === mow.verdict, "map: RU-MOW web tile = its region row (" + (mow && mow.verdict) + ")");
	check(!web.has("RU-SA") && !web.has("DE-BE"), "map: a region without probe agents has no state (drawn nodata); controls are not regions");

	// 6. the verify snippet of a real record: valid; one changed byte: invalid
	const meas = await (await fetch(base + "/api/v1/measurements?limit=1")).json();
	const {verifySnippet} = await mod("view_operator.js");
	const rec = meas.items[0];
	const py = code => spawnSync(python, ["-"], {input: code, encoding: "utf8"});
	const good = py(verifySnippet(rec));
	check(good.status === 0 && good.stdout.startsWith("valid: id " + rec.id), "explorer: the verify snippet accepts record " +
	    rec.id + " (" + (good.stdout + good.stderr).trim().split("\n").pop() + ")");
	const sig = Buffer.from(rec.sig, "base64");
	sig[5] ^= 1;
	const bad = py(verifySnippet(Object.assign({}, rec, {sig: sig.toString("base64")})));
	check(bad.status !== 0 && /BadSignatureError/.test(bad.stderr), "explorer: the snippet refuses the record with one signature bit changed");
	const signed = Buffer.from(rec.signed, "base64");
	signed[signed.length - 1] ^= 1;
	const bad2 = py(verifySnippet(Object.assign({}, rec, {signed: signed.toString("base64")})));
	check(bad2.status !== 0 && /BadSignatureError/.test(bad2.stderr), "explorer: the snippet refuses the record with one signed byte changed");

	// 7. the files the page loads are served with their types
	for (const [f, type] of [["regions.js", "text/javascript"], ["route.js", "text/javascript"], ["i18n.js", "text/javascript"]]) {
		const r = await fetch(base + "/" + f);
		check(r.status === 200 && r.headers.get("content-type").startsWith(type), "served " + f + " as " + r.headers.get("content-type"));
	}
	// an operator's regions.geojson (docs/DASHBOARD.md "GeoJSON") is served
	fs.writeFileSync(path.join(dir, "regions.geojson"), JSON.stringify({type: "FeatureCollection", features: [
	    {type: "Feature", properties: {iso_3166_2: "RU-KGD"}, geometry: {type: "Polygon",
		coordinates: [[[20, 54], [22, 54], [22, 55], [20, 55], [20, 54]]]}}]}));
	const g = await fetch(base + "/regions.geojson");
	const gj = g.status === 200 ? await g.json() : null;
	check(g.headers.get("content-type") === "application/geo+json" && gj && gj.features.length === 1,
	    "served regions.geojson as " + g.headers.get("content-type"));
	fs.unlinkSync(path.join(dir, "regions.geojson"));
	process.exit(fails ? 1 : 0);
})().catch(e => { console.log("FAIL dashboard: " + (e.stack || e)); process.exit(1); });
