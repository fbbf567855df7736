// lib.mjs — what the dashboard's browser tests, screenshots and
// first-paint bench share: headless Debian chromium through playwright-core
// (never a downloaded browser), a fresh profile per launch, and waiting for
// the page's own "painted" signal (body[data-ready="1"], docs/API.md
// "Dashboard") instead of fixed sleeps.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
	"--disable-background-networking", "--disable-quic", "--no-first-run",
	"--disable-component-update", "--disable-sync"];

// A browser context on a fresh --user-data-dir (removed by close()).
export async function launch(executablePath, viewport) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zond-chromium-"));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath, headless: true, args: ARGS,
		viewport: viewport ?? { width: 1280, height: 900 },
	});
	const close = async () => {
		await ctx.close();
		fs.rmSync(dir, { recursive: true, force: true });
	};
	return { ctx, close };
}

// Wait until the current view has painted its data.
export async function ready(page, timeout = 15000) {
	await page.waitForSelector('body[data-ready="1"]', { timeout });
}

// Go to a view by URL hash (#/VIEW?k=v) within the loaded page: mark the
// painted flag stale first, so the wait sees this view's paint.
export async function view(page, hash, timeout) {
	await page.evaluate((h) => {
		if (location.hash === h)
			return;		/* no hashchange: the view stays painted */
		document.body.dataset.ready = "stale";
		location.hash = h;
	}, hash);
	await ready(page, timeout);
}

// Load base + "/" + hash from scratch and wait for its paint.  With a
// token: when the page asks for the operator token (a visible password
// field, docs/DASHBOARD.md) type it in, as an operator would.
export async function open(page, base, hash, timeout, token) {
	await page.goto(base + "/" + (hash ?? ""), { waitUntil: "domcontentloaded" });
	if (token) {
		await page.waitForFunction(() => document.body.dataset.ready === "1" ||
			[...document.querySelectorAll("input[type=password]")].some((e) => e.offsetParent !== null),
			null, { timeout: timeout ?? 15000 });
		const field = await page.$("input[type=password] >> visible=true");
		if (field) {
			await field.fill(token);
			await field.press("Enter");
		}
	}
	await ready(page, timeout);
}

export async function getJSON(url, headers) {
	const r = await fetch(url, { headers: headers ?? {} });
	const body = await r.text();
	let json = null;
	try { json = JSON.parse(body); } catch { /* not JSON */ }
	return { status: r.status, json, body };
}
