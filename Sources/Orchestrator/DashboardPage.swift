/// The live dashboard served at GET /. One small page, no build step: Chart.js comes from the
/// system (Debian's libjs-chart.js) through GET /assets/chart.js; without it the page still shows
/// every number, just no charts.
enum DashboardPage {
    /// The tab icon (browsers ask for /favicon.ico on every page; a 404 there is a console error).
    static let icon = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/><path d="M2 12l3-5 3 3 3-6 3 8" stroke="#fff" stroke-width="1.6" fill="none"/></svg>"##

    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stampede</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
 header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:18px;align-items:center}
 header h1{font-size:18px;margin:0} #conn{font-size:12px;padding:2px 8px;border-radius:9px;background:#b33}
 #conn.up{background:#2a7} main{display:grid;grid-template-columns:1fr 1fr;gap:14px;padding:14px}
 section{background:#fff;border-radius:6px;padding:12px;box-shadow:0 1px 2px #0002} h2{font-size:15px;margin:0 0 8px}
 .wide{grid-column:1/3} table{border-collapse:collapse;width:100%} td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:left}
 .kpis{display:flex;gap:22px;flex-wrap:wrap} .kpi b{display:block;font-size:22px} .kpi span{color:#667;font-size:12px}
 form{display:grid;grid-template-columns:repeat(4,1fr);gap:6px} form input,form select{width:100%;box-sizing:border-box}
 .err{color:#b33} canvas{max-height:230px}
</style></head><body>
<header><h1>Stampede</h1><span id="conn">disconnected</span><span id="current">no test running</span></header>
<main>
 <section class="wide"><div class="kpis">
  <div class="kpi"><b id="rps">–</b><span>req/s (last second; whole test when done)</span></div>
  <div class="kpi"><b id="p50">–</b><span>p50</span></div><div class="kpi"><b id="p90">–</b><span>p90</span></div>
  <div class="kpi"><b id="p99">–</b><span>p99</span></div><div class="kpi"><b id="max">–</b><span>max</span></div>
  <div class="kpi"><b id="responses">0</b><span>responses (this test)</span></div>
  <div class="kpi"><b id="errors">0</b><span>errors (this test)</span></div>
  <div class="kpi"><b id="status">–</b><span>status</span></div></div></section>
 <section class="wide" id="steerSection" hidden><h2>Steer test <span id="steerTest"></span> <span id="pausedMark"></span></h2>
  <div id="steerFields"></div>
  <p><button id="pauseButton">pause</button> <button id="resumeButton">resume</button> <button id="stopButton">stop</button>
  <span id="steerStatus"></span></p><ol id="changeList"></ol></section>
 <section><h2>Requests and errors per second</h2><canvas id="rateChart"></canvas></section>
 <section><h2>Latency per second (ms) <label class="toggle"><input type="checkbox" id="logScale"> log scale</label></h2><canvas id="latencyChart"></canvas></section>
 <section><h2>Latency by percentile (whole test, merged histogram)</h2><canvas id="spectrumChart"></canvas></section>
 <section id="nameSection" hidden><h2>Per name (this test) and errors by kind</h2><table><thead><tr><th>name</th><th>requests</th><th>errors</th><th>p99 (last second)</th><th>waiting p99</th><th>receiving p99</th><th>new conns</th></tr></thead><tbody id="names"></tbody></table><div id="errorKinds"></div></section>
 <section id="thresholdSection" hidden><h2>Thresholds (judged each second on every driver's figures merged)</h2><table><thead><tr><th>threshold</th><th>state</th><th>measured</th><th>limit</th></tr></thead><tbody id="thresholds"></tbody></table></section>
 <section id="scenarioSection" hidden><h2>Scenarios (this test): responses per second</h2><canvas id="scenarioChart"></canvas><table><thead><tr><th>scenario</th><th>requests</th><th>errors</th><th>req/s (last second)</th><th>target</th><th>p99 (last second)</th></tr></thead><tbody id="scenarios"></tbody></table></section>
 <section id="sessionSection" hidden><h2>Sessions per second <span id="sessionTotals"></span></h2><canvas id="sessionChart"></canvas></section>
 <section><h2>Drivers</h2><table><thead><tr><th>id</th><th>host</th><th>labels</th><th>state</th><th>heartbeat</th><th>clock offset</th><th>rtt</th></tr></thead><tbody id="drivers"></tbody></table></section>
 <section class="wide"><h2>New test</h2>
  <form id="newTest">
   <label>target<input name="target" value="http://127.0.0.1:8080/" required></label>
   <label>type<select name="test_type"><option>AVALANCHE</option><option>TSUNAMI</option></select></label>
   <label>requests per driver<input name="message_count_per_driver" type="number" min="1"></label>
   <label>or duration (s)<input name="duration_s" type="number" min="0.1" step="any" value="10"></label>
   <label>connections per driver<input name="connections" type="number" min="1" value="10"></label>
   <label>delay per connection (ms, tsunami)<input name="test_message_delay" type="number" min="0" step="any"></label>
   <label>or total rate (req/s, tsunami)<input name="rate" type="number" min="0" step="any"></label>
   <label>&nbsp;<button>Create and trigger</button></label>
  </form><div id="formError" class="err"></div></section>
 <section class="wide" id="searchSection" hidden><h2>Capacity search <span id="searchTest"></span></h2><table><thead><tr><th>rate</th><th>achieved req/s</th><th>p99</th><th>error rate</th><th>responses</th><th>result</th></tr></thead><tbody id="searchSteps"></tbody></table><div id="searchNext"></div></section>
 <section class="wide"><h2>Tests</h2><table><thead><tr><th>test</th><th>status</th><th>mode</th><th>target</th><th>responses</th><th>p99</th><th>report</th></tr></thead><tbody id="tests"></tbody></table></section>
</main>
<script src="/assets/chart.js"></script>
<script>
const token = new URLSearchParams(location.search).get("token");
const auth = token ? {"Authorization": "Bearer " + token} : {};
const $ = id => document.getElementById(id);
const fmt = us => us == null ? "–" : us < 1000 ? us + " µs" : us < 1e6 ? (us / 1000).toFixed(2) + " ms" : (us / 1e6).toFixed(2) + " s";
const state = {drivers: {}, tests: {}, current: null, totals: {responses: 0, errors: 0}, names: {}, kinds: {}, scenarios: {}};
const palette = ["#36c", "#2a7", "#e80", "#b33", "#63c", "#3aa"];
const charts = {};
function chart(id, config) { if (window.Chart) charts[id] = new Chart($(id), config); }
// Straight lines between measured seconds: a curve would invent values between them.
function line(label, color) { return {label, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, tension: 0}; }
chart("rateChart", {type: "line", data: {labels: [], datasets: [line("req/s", "#2a7"), line("errors/s", "#b33"),
  // Chart.js draws the lowest order last: the intended rate stays visible on top of the achieved one.
  Object.assign(line("target req/s", "#999"), {borderDash: [4, 4], order: -1}),
  // Steering: a mark on the second each change applied in.
  Object.assign(line("changes", "#c0c"), {pointRadius: 7, pointStyle: "triangle", showLine: false, order: -2})]}, options: {animation: false}});
chart("latencyChart", {type: "line", data: {labels: [], datasets: [line("p50", "#36c"), line("p90", "#3aa"), line("p99", "#e80"), line("max", "#b33")]}, options: {animation: false}});
chart("spectrumChart", {type: "line", data: {datasets: [line("latency (ms)", "#63c")]},
  options: {animation: false, parsing: false, scales: {x: {type: "logarithmic", title: {display: true, text: "percentile"},
   ticks: {callback: v => [1, 2, 10, 100, 1000, 10000, 100000].includes(v) ? parseFloat((100 * (1 - 1 / v)).toFixed(4)) + "%" : ""}},
   y: {title: {display: true, text: "ms"}}}}});
// Sessions per second on the left axis, their p99 in ms on the right: each on its own scale.
chart("sessionChart", {type: "line", data: {labels: [], datasets: [line("started/s", "#36c"), line("completed/s", "#2a7"), line("failed/s", "#b33"),
  Object.assign(line("session p99 (ms)", "#e80"), {yAxisID: "ms"})].map(d => Object.assign({yAxisID: "count"}, d))},
  options: {animation: false, scales: {
    count: {type: "linear", axis: "y", position: "left", beginAtZero: true, title: {display: true, text: "sessions per second"}},
    ms: {type: "linear", axis: "y", position: "right", beginAtZero: true, title: {display: true, text: "p99 ms"}, grid: {drawOnChartArea: false}}}}});
chart("scenarioChart", {type: "line", data: {labels: [], datasets: []}, options: {animation: false}});
$("logScale").onchange = ev => {
  for (const id of ["latencyChart", "spectrumChart"]) {
    const c = charts[id]; if (!c) continue;
    c.options.scales = c.options.scales || {}; c.options.scales.y = Object.assign(c.options.scales.y || {}, {type: ev.target.checked ? "logarithmic" : "linear"});
    c.update();
  }
};
function resetCharts() {
  for (const c of Object.values(charts)) { if (c.data.labels) c.data.labels = []; c.data.datasets.forEach(d => d.data = []); c.update(); }
  state.totals = {responses: 0, errors: 0, started: 0, completed: 0, failed: 0};
  state.names = {}; state.kinds = {}; $("names").innerHTML = ""; $("errorKinds").textContent = "";
  state.scenarios = {}; $("scenarios").innerHTML = ""; $("scenarioSection").hidden = true; renderThresholds([]);
  if (charts.scenarioChart) { charts.scenarioChart.data.datasets = []; charts.scenarioChart.update(); }
}
// A test of named scenarios: each one's second, its running totals, and a line per scenario.
function renderScenarios(m) {
  if (!m.scenarios) return;
  $("scenarioSection").hidden = false;
  const names = Object.keys(m.scenarios).sort();
  for (const n of names) {
    const s = state.scenarios[n] = state.scenarios[n] || {requests: 0, errors: 0}, x = m.scenarios[n];
    s.requests += x.requests; s.errors += x.errors; s.rps = x.rps; s.target = x.target_rate; s.p99 = x.responses ? x.latency_us.p99 : null;
  }
  if (charts.scenarioChart) {
    const c = charts.scenarioChart; c.data.labels.push(m.t);
    names.forEach((n, i) => {
      let d = c.data.datasets.find(d => d.label === n);
      if (!d) { d = line(n, palette[i % palette.length]); d.data = c.data.labels.slice(1).map(() => null); c.data.datasets.push(d); }
      d.data.push(m.scenarios[n].rps);
    });
    c.update();
  }
  drawScenarios();
}
// The thresholds as the orchestrator judged them this second (at the end: the report's verdict).
function renderThresholds(states) {
  $("thresholdSection").hidden = !states || states.length === 0;
  $("thresholds").innerHTML = (states || []).map(t => `<tr><td>${t.name.replace(/</g, "&lt;")}</td>
    <td class="${t.state === "ok" ? "" : "err"}">${t.state}</td><td>${t.value}</td><td>${t.limit}</td></tr>`).join("");
}
function finalScenarios(r) {
  if (!r.scenarios) return;
  state.scenarios = {};
  for (const [n, s] of Object.entries(r.scenarios)) state.scenarios[n] = {requests: s.requests, errors: errorsTotal(s.errors), rps: s.rps, target: s.intended ?? null, p99: s.latency_us.p99};
  $("scenarioSection").hidden = false;
  drawScenarios();
}
function drawScenarios() {
  $("scenarios").innerHTML = Object.keys(state.scenarios).sort().map(n => { const s = state.scenarios[n];
    return `<tr><td>${n.replace(/</g, "&lt;")}</td><td>${s.requests}</td><td>${s.errors}</td><td>${s.rps ?? "–"}</td><td>${s.target != null ? Math.round(s.target) : "–"}</td><td>${fmt(s.p99)}</td></tr>`; }).join("");
}
// Per name, and errors by kind (what report.html shows at the end), as the test runs.
function renderBreakdown(m) {
  for (const [k, n] of Object.entries(m.errors || {})) if (n) state.kinds[k] = (state.kinds[k] || 0) + n;
  for (const [name, r] of Object.entries(m.by_name || {})) {
    // A request's redirect hops appear once there were any (as in the report).
    if (name.endsWith(" redirect") && !r.requests && !state.names[name]) continue;
    const s = state.names[name] = state.names[name] || {requests: 0, errors: 0, p99: null, waiting: null, receiving: null, connects: 0};
    s.requests += r.requests; s.errors += errorsTotal(r.errors); if (r.responses) s.p99 = r.latency_us.p99;
    // Where the time goes, live: the last second's time to first byte and transfer, and the new connections so far.
    if (r.waiting_us) s.waiting = r.waiting_us.p99; if (r.receiving_us) s.receiving = r.receiving_us.p99; s.connects += r.connects || 0;
  }
  drawBreakdown();
}
// The test's end: the report's exact figures replace the running sums.
function finalBreakdown(r) {
  state.kinds = {}; state.names = {};
  for (const [k, n] of Object.entries(r.errors || {})) if (n) state.kinds[k] = n;
  for (const [name, n] of Object.entries(r.by_name || {})) state.names[name] = {requests: n.requests, errors: errorsTotal(n.errors), p99: n.latency_us.p99,
    waiting: n.waiting_us ? n.waiting_us.p99 : null, receiving: n.receiving_us ? n.receiving_us.p99 : null, connects: n.connects || 0};
  drawBreakdown();
}
function drawBreakdown() {
  const names = Object.keys(state.names).sort();
  $("nameSection").hidden = names.length === 0 && Object.keys(state.kinds).length === 0;
  $("names").innerHTML = names.map(n => { const s = state.names[n];
    return `<tr class="name" data-name="${n.replace(/"/g, "&quot;")}"><td>${n.replace(/</g, "&lt;")}</td><td>${s.requests}</td><td>${s.errors}</td><td>${fmt(s.p99)}</td>
    <td class="waiting">${s.waiting != null ? fmt(s.waiting) : "–"}</td><td class="receiving">${s.receiving != null ? fmt(s.receiving) : "–"}</td><td>${s.connects}</td></tr>`; }).join("");
  const kinds = Object.entries(state.kinds).sort((a, b) => b[1] - a[1]);
  $("errorKinds").textContent = kinds.length ? "errors by kind: " + kinds.map(([k, n]) => k + " " + n).join(", ") : "no errors";
}
function errorsTotal(e) { return Object.values(e || {}).reduce((a, b) => a + b, 0); }
function renderDrivers() {
  $("drivers").innerHTML = Object.values(state.drivers).sort((a, b) => a.id.localeCompare(b.id)).map(d =>
    `<tr><td>${d.id}</td><td>${d.host || ""}</td><td>${Object.entries(d.labels || {}).map(([k, v]) => k + "=" + v).join(" ")}</td><td>${d.state}${d.refused ? " (refused: " + d.refused + ")" : ""}</td><td>${d.last_heartbeat_ms_ago ?? ""}${d.last_heartbeat_ms_ago != null ? " ms ago" : ""}</td>
    <td class="clock">${d.clock_offset_ms != null ? (d.clock_offset_ms > 0 ? "+" : "") + d.clock_offset_ms.toFixed(1) + " ms" : "–"}</td><td>${d.rtt_ms != null ? d.rtt_ms.toFixed(1) + " ms" : "–"}</td></tr>`).join("");
}
function renderTests() {
  $("tests").innerHTML = Object.values(state.tests).reverse().map(t => `<tr><td>${t.test_id}</td><td>${t.status}</td><td>${t.mode || ""}</td><td>${t.target || ""}</td>
    <td>${t.report ? t.report.responses : ""}</td><td>${t.report ? fmt(t.report.latency_us.p99) : ""}</td>
    <td><a href="/tests/${encodeURIComponent(t.test_id)}${token ? "?token=" + encodeURIComponent(token) : ""}">JSON</a>
    ${t.status === "done" || t.status === "failed" ? `<a href="/tests/${encodeURIComponent(t.test_id)}/report.html${token ? "?token=" + encodeURIComponent(token) : ""}">report</a>` : ""}
    ${t.status === "running" ? `<button class="stop" data-id="${t.test_id}">stop</button>` : ""}</td></tr>`).join("");
}
// Stop: the drivers stop sending, requests in flight finish, the report keeps what was sent.
$("tests").onclick = async ev => {
  const b = ev.target.closest("button.stop"); if (!b) return;
  b.disabled = true; $("formError").textContent = "";
  const r = await fetch("/tests/" + encodeURIComponent(b.dataset.id) + "/stop", {method: "POST", headers: auth});
  if (!r.ok) { const a = await r.json(); $("formError").textContent = a.error; b.disabled = false; }
};
// Steering a running test: its rate or users (per scenario), pause, resume and stop, through the
// API with the page's token; each change the orchestrator announces is listed and marked.
async function showSteer(id) {
  state.steer = {id, marks: {}};
  $("changeList").innerHTML = ""; $("steerStatus").textContent = ""; $("pausedMark").textContent = "";
  const r = await fetch("/tests/" + encodeURIComponent(id), {headers: auth}); if (!r.ok) return;
  const cfg = (await r.json()).config || {};
  const named = cfg.scenarios ? Object.entries(cfg.scenarios) : [["default", cfg]];
  const fieldOf = c => c.stages ? null : (c.test_type || cfg.test_type || "AVALANCHE") === "AVALANCHE" ? "connections"
    : typeof c.session_rate === "number" ? "session_rate" : c.rate != null ? "rate" : null;
  $("steerFields").innerHTML = named.map(([n, c]) => { const f = fieldOf(c);
    return f ? `<label>${cfg.scenarios ? n + ": " : ""}${f === "connections" ? "users (connections per driver)" : f.replace("_", " ") + " (total per second)"}
      <input class="steerValue" data-scenario="${n}" data-field="${f}" type="number" min="0" step="any" value="${c[f] ?? ""}"></label>
      <button class="apply" data-scenario="${n}">apply</button>` : `<span>${n}: follows its stages</span>`; }).join(" ");
  $("steerSection").hidden = false; $("steerTest").textContent = id;
}
async function steer(path, method, body) {
  $("steerStatus").textContent = "";
  const r = await fetch("/tests/" + encodeURIComponent(state.steer.id) + path, {method, headers: Object.assign({"Content-Type": "application/json"}, auth),
    body: body ? JSON.stringify(body) : undefined});
  const a = await r.json().catch(() => ({}));
  $("steerStatus").textContent = r.ok ? "sent" : (a.error || r.status) + (a.field ? " (" + a.field + ")" : "");
}
$("steerFields").onclick = ev => {
  const b = ev.target.closest("button.apply"); if (!b) return;
  const input = [...document.querySelectorAll("input.steerValue")].find(i => i.dataset.scenario === b.dataset.scenario);
  const change = {[input.dataset.field]: Number(input.value)};
  steer("", "PATCH", document.querySelectorAll("input.steerValue").length > 1 || input.dataset.scenario !== "default"
    ? {scenarios: {[input.dataset.scenario]: change}} : change);
};
$("pauseButton").onclick = () => steer("/pause", "POST");
$("resumeButton").onclick = () => steer("/resume", "POST");
$("stopButton").onclick = () => steer("/stop", "POST");
function onChange(m) {
  if (!state.steer || state.steer.id !== m.test_id) return;
  const c = m.change, v = x => typeof x === "boolean" ? (x ? "on" : "off") : x;
  $("changeList").insertAdjacentHTML("beforeend", `<li>at ${c.at_s.toFixed(1)} s: ${c.scenario} ${c.field} ${v(c.from)} → ${v(c.to)}</li>`);
  state.steer.marks[Math.ceil(c.at_s)] = true;
  if (c.field === "paused") $("pausedMark").textContent = c.to ? "(paused)" : "";
}
function onInterval(m) {
  if (state.current !== m.test_id) { state.current = m.test_id; resetCharts(); showSteer(m.test_id); }
  state.totals.responses += m.responses; state.totals.errors += errorsTotal(m.errors);
  renderBreakdown(m);
  renderScenarios(m);
  if (m.thresholds) renderThresholds(m.thresholds);
  $("current").textContent = "test " + m.test_id + ", second " + m.t;
  if (charts.spectrumChart && m.spectrum) { charts.spectrumChart.data.datasets[0].data = m.spectrum.filter(p => p[0] < 100)
      .map(p => ({x: 1 / (1 - p[0] / 100), y: p[1] / 1000})); charts.spectrumChart.update(); }
  $("rps").textContent = m.rps; $("p50").textContent = fmt(m.latency_us.p50); $("p90").textContent = fmt(m.latency_us.p90);
  $("p99").textContent = fmt(m.latency_us.p99); $("max").textContent = fmt(m.latency_us.max);
  $("responses").textContent = state.totals.responses; $("errors").textContent = state.totals.errors; $("status").textContent = "running";
  if (charts.rateChart) { const c = charts.rateChart; c.data.labels.push(m.t); c.data.datasets[0].data.push(m.rps); c.data.datasets[1].data.push(errorsTotal(m.errors));
    c.data.datasets[2].data.push(m.target_rate ?? null);
    c.data.datasets[3].data.push(state.steer && state.steer.marks[m.t] ? (m.target_rate ?? m.rps) : null); c.update(); }
  if (m.paused) $("current").textContent += " (paused)";
  if (m.target_connections != null) $("current").textContent += ", " + m.connections + " connections (target " + Math.round(m.target_connections) + ")";
  else if (m.target_rate != null) $("current").textContent += ", target " + Math.round(m.target_rate) + " req/s";
  if (charts.latencyChart) { const c = charts.latencyChart; c.data.labels.push(m.t);
    ["p50", "p90", "p99", "max"].forEach((k, i) => c.data.datasets[i].data.push(m.latency_us[k] / 1000)); c.update(); }
  if (m.sessions_started != null) {
    // Sessions (order: sequence): how many started, completed and failed each second, and the p99 of their duration.
    $("sessionSection").hidden = false;
    const t = state.totals; t.started = (t.started || 0) + m.sessions_started; t.completed = (t.completed || 0) + m.sessions_completed;
    t.failed = (t.failed || 0) + m.sessions_failed;
    $("sessionTotals").textContent = `(this test: ${t.started} started, ${t.completed} completed, ${t.failed} failed)`;
    if (charts.sessionChart) { const c = charts.sessionChart; c.data.labels.push(m.t);
      [m.sessions_started, m.sessions_completed, m.sessions_failed, m.session_p99_us != null ? m.session_p99_us / 1000 : null]
        .forEach((v, i) => c.data.datasets[i].data.push(v)); c.update(); }
  }
}
function onSearchStep(m) {
  const s = m.step; $("searchSection").hidden = false;
  if ($("searchTest").textContent !== m.test_id) { $("searchTest").textContent = m.test_id; $("searchSteps").innerHTML = ""; }
  $("searchSteps").insertAdjacentHTML("beforeend", `<tr><td>${Math.round(s.rate)}</td><td>${s.achieved_rps.toFixed(1)}</td>
    <td>${s.p99_ms.toFixed(2)} ms</td><td>${(s.error_rate * 100).toFixed(2)}%</td><td>${s.responses}</td>
    <td>${s.passed ? "pass" : "FAIL " + s.failed.join(", ")}${s.note ? ": " + s.note : ""}</td></tr>`);
  $("searchNext").textContent = m.next_rate != null ? "next: " + Math.round(m.next_rate) + " req/s" : "search finished";
}
function onFinal(m) {
  if (state.steer && state.steer.id === m.test_id) $("steerSection").hidden = true;
  state.tests[m.test_id] = Object.assign(state.tests[m.test_id] || {test_id: m.test_id}, {status: m.report.error ? "failed" : "done", report: m.report});
  if (state.current === m.test_id || !state.current) {
    state.current = m.test_id;
    $("responses").textContent = m.report.responses; $("errors").textContent = errorsTotal(m.report.errors);
    $("rps").textContent = m.report.rps;
    $("p50").textContent = fmt(m.report.latency_us.p50); $("p90").textContent = fmt(m.report.latency_us.p90);
    $("p99").textContent = fmt(m.report.latency_us.p99); $("max").textContent = fmt(m.report.latency_us.max);
    $("status").textContent = m.report.error ? "failed" : m.report.partial ? "done (partial)" : "done";
    finalBreakdown(m.report);
    finalScenarios(m.report);
    renderThresholds((m.report.thresholds.results || []).map(r => ({name: r.name, state: r.passed ? "passed" : "failed",
      value: Math.round(r.actual * 1000) / 1000, limit: r.limit})));
    $("current").textContent = "test " + m.test_id + (m.report.error ? " failed: " + m.report.error : " finished")
      + (m.report.redistributed ? " (" + m.report.redistributed.map(r => r.requests + " requests of " + r.from + " sent by "
      + Object.keys(r.to).join(", ")).join("; ") + ")" : "");
    if (charts.spectrumChart && m.spectrum) { charts.spectrumChart.data.datasets[0].data = m.spectrum.filter(p => p[0] < 100)
      .map(p => ({x: 1 / (1 - p[0] / 100), y: p[1] / 1000})); charts.spectrumChart.update(); }
  }
  renderTests();
}
let delay = 500;
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + (token ? "?token=" + encodeURIComponent(token) : ""));
  ws.onopen = () => { $("conn").textContent = "live"; $("conn").className = "up"; delay = 500; };
  ws.onclose = () => { $("conn").textContent = "reconnecting…"; $("conn").className = ""; setTimeout(connect, delay); delay = Math.min(delay * 2, 8000); };
  ws.onmessage = ev => {
    const m = JSON.parse(ev.data);
    if (m.type === "snapshot") {
      state.drivers = Object.fromEntries(m.drivers.map(d => [d.id, d])); state.tests = Object.fromEntries(m.tests.map(t => [t.test_id, t]));
      renderDrivers(); renderTests();
      // A page opened mid-test draws the seconds it missed.
      for (const list of Object.values(m.intervals || {})) list.forEach(onInterval);
    } else if (m.type === "driver") {
      if (m.state === "left") delete state.drivers[m.id]; else state.drivers[m.id] = Object.assign(state.drivers[m.id] || {id: m.id}, {state: m.state});
      renderDrivers();
    } else if (m.type === "test") { state.tests[m.test.test_id] = m.test; renderTests(); }
    else if (m.type === "interval") onInterval(m);
    else if (m.type === "final") onFinal(m);
    else if (m.type === "search_step") onSearchStep(m);
    else if (m.type === "change") onChange(m);
  };
}
setInterval(async () => {  // heartbeat ages, from the API
  try { const r = await fetch("/drivers", {headers: auth}); if (r.ok) { for (const d of await r.json()) state.drivers[d.id] = d; renderDrivers(); } } catch (e) {}
}, 2000);
$("newTest").onsubmit = async ev => {
  ev.preventDefault(); $("formError").textContent = "";
  const body = {};
  for (const [k, v] of new FormData(ev.target)) if (v !== "") body[k] = ["target", "test_type"].includes(k) ? v : Number(v);
  if (body.message_count_per_driver) delete body.duration_s;
  const post = (path, b) => fetch(path, {method: "POST", headers: Object.assign({"Content-Type": "application/json"}, auth), body: JSON.stringify(b)});
  let r = await post("/tests", body), a = await r.json();
  if (!r.ok) { $("formError").textContent = a.error + (a.field ? " (" + a.field + ")" : ""); return; }
  r = await post("/trigger", {test_id: a.test_id}); const t = await r.json();
  if (!r.ok) $("formError").textContent = t.error;
};
connect();
</script></body></html>
"""#
}
