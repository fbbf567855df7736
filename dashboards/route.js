/*
 * route.js — the view state in the URL hash, "#/VIEW?k=v&...", so a link
 * reproduces the view (docs/DASHBOARD.md "URL").  Pure functions: what is
 * not a known view or key, or not a valid value, falls back to the
 * default, so a mangled link still opens a page.
 */
export const VIEW_NAMES = ["map", "matrix", "isp", "timeline", "events", "agents", "explorer"];
export const KEYS = ["service", "region", "asn", "hours", "kind", "lang"];
export const HOURS = [1, 6, 24, 168];
const KINDS = ["", "block", "unblock", "regime", "first"];

/* "#/isp?region=RU-MOW&hours=6" -> {view: "isp", region: "RU-MOW", hours: 6, ...} */
export function parseHash(hash) {
	const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash || "");
	const s = {view: "map", service: "", region: "", asn: "", hours: 24, kind: "", lang: ""};
	if (m) {
		if (VIEW_NAMES.includes(m[1]))
			s.view = m[1];
		for (const [k, v] of new URLSearchParams(m[2] || ""))
			if (KEYS.includes(k))
				s[k] = v;
	}
	s.hours = HOURS.includes(Number(s.hours)) ? Number(s.hours) : 24;
	if (!/^[0-9]{1,10}$/.test(s.asn))
		s.asn = "";
	if (!/^[A-Z0-9-]{1,7}$|^other$/.test(s.region))
		s.region = "";
	if (!/^(@calls|[A-Za-z0-9._-]{1,63}(\/calls|\/messaging)?)$/.test(s.service))
		s.service = "";
	if (!KINDS.includes(s.kind))
		s.kind = "";
	if (s.lang !== "en" && s.lang !== "ru")
		s.lang = "";
	return s;
}

/* the inverse: default values (hours 24, empty keys) left out */
export function hashOf(s) {
	const q = new URLSearchParams();
	for (const k of KEYS)
		if (s[k] !== "" && s[k] !== undefined && s[k] !== null &&
		    !(k === "hours" && Number(s[k]) === 24))
			q.set(k, s[k]);
	const qs = q.toString();
	return "#/" + s.view + (qs ? "?" + qs : "");
}
