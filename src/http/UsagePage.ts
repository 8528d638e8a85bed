/**
 * `GET /admin/ui/usage`: a small page that plots the gateway's usage. One self-contained HTML
 * document (inline CSS and script, no font, image or script from anywhere else), so it works
 * offline and makes no request outside the gateway. It asks `GET /admin/v1/usage` for the report
 * (the table of groups) and `GET /admin/v1/usage/graph` for the chart (the gateway's own SVG,
 * parsed as XML and inserted), with filters for group_by, range, interval, metric and key,
 * project, user, model and provider, kept in the page's query string (never the key).
 *
 * The page itself holds no data and is served without a key. The admin API needs one: the page
 * asks for it (a password field), keeps it in `sessionStorage` (this tab only, gone when the tab
 * closes; "Forget key" removes it at once), and sends it only as `Authorization: Bearer` on its
 * own same-origin requests, never in a URL. A 401 or 403 drops it and asks again.
 *
 * Its Content-Security-Policy allows only the page's own script and style (by hash), requests to
 * the gateway itself, no frames, no forms posted anywhere, no base URL change.
 */
import * as Base64 from "effect/encoding/Base64"
import { sha256 } from "../crypto/Sha256.ts"
import type { OutgoingResponse } from "./Exchange.ts"
import { bytes } from "./respond.ts"

export const USAGE_PAGE_PATH = "/admin/ui/usage"

const STYLE = `
[hidden] { display: none !important; }
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; }
body { margin: 0 auto; padding: 16px 24px; max-width: 1240px; }
header { display: flex; align-items: baseline; gap: 16px; }
h1 { font-size: 20px; margin: 0 0 12px; }
#status { color: #555; font-size: 13px; }
form { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin: 0 0 12px; }
label { display: flex; flex-direction: column; font-size: 12px; color: #444; gap: 2px; }
label.inline { flex-direction: row; align-items: center; gap: 4px; }
input, select, button { font: inherit; font-size: 13px; padding: 4px 6px; }
input[type=text] { width: 9em; }
#key { width: 24em; }
.hint { font-size: 12px; color: #666; flex-basis: 100%; margin: 0; }
#error { color: #a40000; background: #fff0f0; border: 1px solid #f2c4c4; padding: 8px 10px; }
#chart { margin: 0 0 16px; min-height: 120px; }
#chart svg { max-width: 100%; height: auto; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 13px; min-width: 480px; }
th, td { text-align: right; padding: 4px 10px; border-bottom: 1px solid #eee; }
th:first-child, td:first-child { text-align: left; }
tfoot td { font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
`

const SCRIPT = `
"use strict";
(() => {
  const STORAGE = "llmgate.adminKey";
  const RANGES = { "1h": 36e5, "6h": 216e5, "24h": 864e5, "7d": 6048e5, "30d": 2592e6, "90d": 7776e6 };
  const FILTERS = ["key", "project", "user", "model", "provider"];
  const FIELDS = ["group_by", "range", "interval", "metric", ...FILTERS];
  const $ = (id) => document.getElementById(id);
  const filters = $("filters"), keyForm = $("key-form"), keyInput = $("key");
  const chart = $("chart"), error = $("error"), status = $("status"), tbody = $("rows"), tfoot = $("total");
  const REFUSED = new Error("refused");
  let timer;

  const storedKey = () => sessionStorage.getItem(STORAGE) || "";
  const askKey = (why) => {
    keyForm.hidden = false;
    filters.hidden = true;
    status.textContent = why || "";
    keyInput.focus();
  };
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
  };

  // The filters live in the page's query string (a link reproduces the view; the key never goes there).
  const restore = () => {
    const q = new URLSearchParams(location.search);
    for (const name of FIELDS) {
      const value = q.get(name);
      if (value !== null && filters.elements[name]) filters.elements[name].value = value;
    }
  };
  const remember = () => {
    const q = new URLSearchParams();
    for (const name of FIELDS) {
      const value = String(filters.elements[name].value).trim();
      if (value !== "") q.set(name, value);
    }
    history.replaceState(null, "", location.pathname + "?" + q.toString());
  };
  const query = () => {
    const f = filters.elements;
    const q = new URLSearchParams();
    q.set("group_by", f.group_by.value);
    const now = Date.now();
    q.set("from", new Date(now - (RANGES[f.range.value] || RANGES["24h"])).toISOString());
    q.set("to", new Date(now).toISOString());
    if (f.interval.value !== "") q.set("interval", f.interval.value);
    for (const name of FILTERS) {
      const value = f[name].value.trim();
      if (value !== "") q.set(name, value);
    }
    return q;
  };

  const get = async (path) => {
    const response = await fetch(path, {
      headers: { authorization: "Bearer " + storedKey() },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    });
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(STORAGE);
      const body = await response.json().catch(() => null);
      askKey((body && body.error && body.error.message) || "The key was refused.");
      throw REFUSED;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && body.error && body.error.message) || "HTTP " + response.status);
    }
    return response;
  };

  const cell = (row, text) => {
    const td = document.createElement("td");
    td.textContent = text;
    row.append(td);
    return td;
  };
  const cost = (usd) => (usd === 0 ? "0" : usd >= 1 ? usd.toFixed(2) : String(Number(usd.toPrecision(3))));
  const table = (report) => {
    const rows = report.series.concat(report.other ? [report.other] : []);
    tbody.replaceChildren(
      ...rows.map((s) => {
        const tr = document.createElement("tr");
        tr.dataset.group = s.label;
        cell(tr, s.label);
        cell(tr, String(s.totals.requests));
        cell(tr, String(s.totals.tokens.total));
        cell(tr, cost(s.totals.cost_usd));
        return tr;
      })
    );
    const tr = document.createElement("tr");
    cell(tr, "total");
    cell(tr, String(report.totals.requests));
    cell(tr, String(report.totals.tokens.total));
    cell(tr, cost(report.totals.cost_usd));
    tfoot.replaceChildren(tr);
  };

  const show = async () => {
    if (storedKey() === "") return askKey("");
    keyForm.hidden = true;
    filters.hidden = false;
    remember();
    const q = query();
    const graph = new URLSearchParams(q);
    graph.set("metric", filters.elements.metric.value);
    try {
      const [report, svg] = await Promise.all([
        get("/admin/v1/usage?" + q.toString()).then((r) => r.json()),
        get("/admin/v1/usage/graph?" + graph.toString()).then((r) => r.text())
      ]);
      const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
      if (doc.getElementsByTagName("parsererror").length > 0 || doc.documentElement.localName !== "svg")
        throw new Error("The chart could not be read.");
      chart.replaceChildren(document.importNode(doc.documentElement, true));
      table(report);
      error.hidden = true;
      status.textContent =
        report.totals.requests + " requests from " + report.from + " to " + report.to +
        (report.recording ? "" : " (usage recording is off: usage.enabled is false)") +
        " · updated " + new Date().toLocaleTimeString();
    } catch (e) {
      if (e !== REFUSED) fail(e instanceof Error ? e.message : String(e));
    }
  };

  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    keyInput.value = "";
    if (key === "") return;
    sessionStorage.setItem(STORAGE, key);
    show();
  });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  filters.addEventListener("change", (event) => {
    if (event.target.name === "auto") {
      clearInterval(timer);
      if (event.target.checked) timer = setInterval(show, 10000);
    } else if (event.target.tagName === "SELECT") show();
  });
  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(STORAGE);
    clearInterval(timer);
    filters.elements.auto.checked = false;
    chart.replaceChildren();
    tbody.replaceChildren();
    tfoot.replaceChildren();
    askKey("The key is forgotten.");
  });
  restore();
  show();
})();
`

const options = (values: ReadonlyArray<readonly [string, string]>, selected: string): string =>
  values.map(([v, text]) => `<option value="${v}"${v === selected ? " selected" : ""}>${text}</option>`).join("")

const FILTER_INPUTS = ["key", "project", "user", "model", "provider"]
  .map((name) => `<label>${name}<input type="text" name="${name}" autocomplete="off" spellcheck="false"></label>`)
  .join("\n")

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>llmgate usage</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>llmgate usage</h1><span id="status" role="status"></span></header>
<form id="key-form" hidden>
<label>Admin key<input id="key" type="password" autocomplete="off" placeholder="the master key or an admin user's key"></label>
<button type="submit">Use this key</button>
<p class="hint">Kept in this browser tab only (sessionStorage) and sent to this gateway as an Authorization header, never in a URL.</p>
</form>
<form id="filters" hidden>
<label>group by<select name="group_by">${options(
  [
    ["model", "model"],
    ["key", "key"],
    ["project", "project"],
    ["user", "user"],
    ["provider", "provider"]
  ],
  "model"
)}</select></label>
<label>range<select name="range">${options(
  [
    ["1h", "last hour"],
    ["6h", "last 6 hours"],
    ["24h", "last 24 hours"],
    ["7d", "last 7 days"],
    ["30d", "last 30 days"],
    ["90d", "last 90 days"]
  ],
  "24h"
)}</select></label>
<label>interval<select name="interval">${options(
  [
    ["", "auto"],
    ["minute", "minute"],
    ["hour", "hour"],
    ["day", "day"]
  ],
  ""
)}</select></label>
<label>metric<select name="metric">${options(
  [
    ["requests", "requests"],
    ["tokens", "tokens"],
    ["cost", "cost (USD)"]
  ],
  "requests"
)}</select></label>
${FILTER_INPUTS}
<button type="submit">Show</button>
<label class="inline"><input type="checkbox" name="auto">refresh every 10 s</label>
<button type="button" id="forget">Forget key</button>
</form>
<p id="error" role="alert" hidden></p>
<figure id="chart"></figure>
<table>
<thead><tr><th>group</th><th>requests</th><th>tokens</th><th>cost (USD)</th></tr></thead>
<tbody id="rows"></tbody>
<tfoot id="total"></tfoot>
</table>
<script>${SCRIPT}</script>
</body>
</html>`

const hash = (text: string): string => `'sha256-${Base64.encode(sha256(new TextEncoder().encode(text)))}'`

/** Only this page's script and style run; it talks to this gateway only. */
export const USAGE_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

const RESPONSE = bytes(new TextEncoder().encode(PAGE), "text/html; charset=utf-8", {
  "content-security-policy": USAGE_PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store"
})

/** The page (the same bytes on every request). */
export const usagePage = (): OutgoingResponse => RESPONSE
