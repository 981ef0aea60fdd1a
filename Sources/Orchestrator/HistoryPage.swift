/// A named test's runs over time, drawn by the browser from `GET /history/NAME` (the page holds no
/// data: it reads the name from its own path and the token from its `?token=`), with the
/// dashboard's chart library.
enum HistoryPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stampede history</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#222} header{background:#1d2330;color:#fff;padding:10px 18px}
 main{padding:14px;display:grid;grid-template-columns:1fr 1fr;gap:14px} section{background:#fff;border-radius:6px;padding:12px}
 .wide{grid-column:1/-1} table{border-collapse:collapse;width:100%} td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:right}
 td:first-child,th:first-child{text-align:left} .fail{color:#b33;font-weight:bold} canvas{max-height:260px} .err{color:#b33}
</style></head><body>
<header><h1 id="title">Stampede history</h1></header>
<main>
 <section><h2>Latency per run (ms)</h2><canvas id="latencyChart"></canvas></section>
 <section><h2>Throughput and errors per run</h2><canvas id="rateChart"></canvas></section>
 <section class="wide"><h2>Runs <span id="count"></span></h2><div id="error" class="err"></div>
  <table><thead><tr><th>test</th><th>started</th><th>requests</th><th>req/s</th><th>error rate</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>thresholds</th></tr></thead>
  <tbody id="runs"></tbody></table></section>
</main>
<script src="/assets/chart.js"></script>
<script>
const token = new URLSearchParams(location.search).get("token");
const name = decodeURIComponent(location.pathname.split("/")[2] || "");
const $ = id => document.getElementById(id);
const esc = s => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");
function line(label, color, axis) { return {label, data: [], borderColor: color, backgroundColor: color, tension: 0, yAxisID: axis}; }
async function load() {
  $("title").textContent = "Stampede history: " + name;
  const r = await fetch("/history/" + encodeURIComponent(name), {headers: token ? {"Authorization": "Bearer " + token} : {}});
  const body = await r.json();
  if (!r.ok) { $("error").textContent = body.error; return; }
  const runs = body.runs;
  $("count").textContent = "(" + runs.length + ")";
  $("runs").innerHTML = runs.slice().reverse().map(x => `<tr><td>${esc(x.test_id)}</td><td>${esc(x.started_at)}</td><td>${x.requests}</td>
    <td>${x.rps}</td><td>${(x.error_rate * 100).toFixed(2)} %</td><td>${x.p50_ms}</td><td>${x.p90_ms}</td><td>${x.p99_ms}</td>
    <td class="${x.passed ? "" : "fail"}">${x.aborted ? "aborted" : x.passed ? "passed" : "failed"}</td></tr>`).join("");
  if (!window.Chart) return;
  const labels = runs.map(x => x.started_at.slice(0, 16).replace("T", " "));
  const latency = new Chart($("latencyChart"), {type: "line", data: {labels, datasets: [
    line("p50", "#36c", "y"), line("p90", "#3aa", "y"), line("p99", "#e80", "y")]}, options: {animation: false}});
  ["p50_ms", "p90_ms", "p99_ms"].forEach((k, i) => latency.data.datasets[i].data = runs.map(x => x[k]));
  latency.update();
  const rate = new Chart($("rateChart"), {type: "line", data: {labels, datasets: [line("req/s", "#2a7", "y"), line("error rate %", "#b33", "pct")]},
    options: {animation: false, scales: {y: {beginAtZero: true}, pct: {type: "linear", axis: "y", position: "right", beginAtZero: true, grid: {drawOnChartArea: false}}}}});
  rate.data.datasets[0].data = runs.map(x => x.rps); rate.data.datasets[1].data = runs.map(x => x.error_rate * 100);
  rate.update();
}
load();
</script></body></html>
"""#
}
