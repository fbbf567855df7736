// shots.mjs --base URL --out DIR [--chromium PATH] — the README's
// screenshots of the dashboard (tests/dashboard/screenshots.sh): each view
// once painted (body[data-ready="1"]), as PNG into DIR/dashboard-NAME.png.
import path from "node:path";
import { parseArgs } from "node:util";
import { launch, open } from "./lib.mjs";

const { values: A } = parseArgs({ options: {
	base: { type: "string" }, out: { type: "string" },
	chromium: { type: "string", default: "/usr/bin/chromium" },
} });
const SHOTS = [
	["map", "#/map?service=whatsapp&lang=en", { width: 1280, height: 860 }],
	["matrix", "#/matrix?lang=en", { width: 1720, height: 600 }],
	["timeline", "#/timeline?service=youtube&region=RU-MOW&lang=en", { width: 1280, height: 760 }],
	["events", "#/events?lang=en", { width: 1280, height: 700 }],
	["phone", "#/map?service=youtube&lang=ru", { width: 360, height: 740 }],
];
for (const [name, hash, vp] of SHOTS) {
	const { ctx, close } = await launch(A.chromium, vp);
	const page = await ctx.newPage();
	await open(page, A.base, hash);
	const f = path.join(A.out, `dashboard-${name}.png`);
	await page.screenshot({ path: f, fullPage: name !== "phone" });
	console.log(f);
	await close();
}
