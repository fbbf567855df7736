// firstpaint.mjs --base URL --hash H --runs N [--chromium PATH] — the
// dashboard's first paint, for bench/dashboard: N loads of BASE/H, each in
// a fresh browser profile (cold browser cache, warm aggregator).  In the
// page, from navigation start (performance.now() = 0) to the moment
// body[data-ready="1"] holds with at least 83 tiles drawn (a
// MutationObserver installed before any script of the page runs).  Prints
// key=value lines: first_paint_ms_p50/max/min, and per API request the
// page made (path without query) its p50 duration and size.
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: A } = parseArgs({ options: {
	base: { type: "string" }, hash: { type: "string", default: "#/map" },
	runs: { type: "string", default: "10" },
	chromium: { type: "string", default: "/usr/bin/chromium" },
} });
const N = Number(A.runs);
const paint = [], reqs = new Map();
const p50 = (v) => [...v].sort((a, b) => a - b)[Math.ceil(v.length / 2) - 1];

for (let i = 0; i < N; i++) {
	const { ctx, close } = await launch(A.chromium);
	await ctx.addInitScript(() => {
		const done = () => document.body?.dataset.ready === "1" &&
			document.querySelectorAll(".tile[data-region]").length >= 83;
		new MutationObserver((_, o) => {
			if (window.__zondPaint === undefined && done()) {
				window.__zondPaint = performance.now();
				o.disconnect();
			}
		}).observe(document, { subtree: true, childList: true, attributes: true,
			attributeFilter: ["data-ready"] });
	});
	const page = await ctx.newPage();
	await page.goto(A.base + "/" + A.hash, { waitUntil: "domcontentloaded" });
	const ms = await (await page.waitForFunction(() => window.__zondPaint, null,
		{ timeout: 60000 })).jsonValue();
	paint.push(ms);
	const res = await page.evaluate(() => performance.getEntriesByType("resource")
		.filter((e) => new URL(e.name).pathname.startsWith("/api/"))
		.map((e) => ({ path: new URL(e.name).pathname, query: new URL(e.name).search,
			ms: e.responseEnd - e.startTime, bytes: e.encodedBodySize, end: e.responseEnd })));
	for (const r of res) {
		if (r.end > ms) continue;	/* after the paint: not needed for it */
		if (!reqs.has(r.path)) reqs.set(r.path, { ms: [], bytes: [], query: r.query });
		reqs.get(r.path).ms.push(r.ms);
		reqs.get(r.path).bytes.push(r.bytes);
	}
	await close();
}
console.log(`runs=${N}`);
console.log(`view=${A.hash}`);
console.log(`first_paint_ms_p50=${p50(paint).toFixed(0)}`);
console.log(`first_paint_ms_min=${Math.min(...paint).toFixed(0)}`);
console.log(`first_paint_ms_max=${Math.max(...paint).toFixed(0)}`);
for (const [path, r] of reqs) {
	const k = path.replace(/^\/api\/v1\//, "").replace(/\W/g, "_");
	console.log(`api_${k}_query=${r.query}`);
	console.log(`api_${k}_per_load=${(r.ms.length / N).toFixed(1)}`);
	console.log(`api_${k}_ms_p50=${p50(r.ms).toFixed(1)}`);
	console.log(`api_${k}_bytes=${p50(r.bytes)}`);
}
