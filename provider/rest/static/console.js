// The console page: poll /console/state (tables) and /console/series (charts) every 2 s and draw them.
// Text goes in with textContent only (service and method names come from the wire). With JWT on, a
// 401 or 403 shows the login form; the token lives in sessionStorage for this tab only.
// document.body.dataset.ready becomes "yes" once both have been drawn; window.consoleSeries is the series
// drawn last and window.consoleRefresh the poller (the Chromium tests wait, stop it, and read them).
"use strict";

let drawnState = false, drawnSeries = false;

function drawState(state) {
  document.getElementById("phase").textContent = state.phase;
  document.getElementById("phase").className = state.ready ? "good" : "bad";
  document.getElementById("address").textContent = state.dubboAddress || "-";
  document.getElementById("uptime").textContent = Math.round(state.uptimeSeconds);
  document.getElementById("registry").textContent = state.registry.address + " (" + state.registry.state + ")";
  const workers = state.workers || [];
  const up = workers.filter(w => w.up).length;
  document.getElementById("workers-summary").textContent = `${up} of ${workers.length} workers answering.`;
  fill("workers", workers, [["worker"], [w => w.up ? "yes" : "no", ""], ["phase"],
    [w => w.up ? Math.round(w.uptimeSeconds) : "", "num"], ["calls", "num"], ["errors", "num"],
    ["breakersOpen", "num"]]);
  fill("services", state.services, [["interface"], ["version"], ["group"],
    [s => s.methods.join(", ")], [() => state.registry.state]]);
  fill("methods", state.methods, [["protocol"], ["interface"], ["method"], ["calls", "num"], ["errors", "num"],
    ["qps", "num"], ["meanMs", "num"]]);
  fill("breakers", state.breakers, [["name"], ["state"], ["worker"]]);
  const realtime = state.realtime || {};
  document.getElementById("realtime-summary").textContent = realtime.consumers === undefined ? "not configured"
    : `${realtime.liveItems} live items, ${realtime.removedItems} removed, ${realtime.trendingItems} trending, `
      + `${realtime.followErrors} follower errors`;
  fill("realtime", realtime.rows || [], [["consumer"], ["source"], ["group"], ["applied", "num"],
    ["duplicates", "num"], ["deadLettered", "num"], ["lag", "num"], ["partitions", "num"], ["freshnessP50"],
    ["freshnessP99"]]);
  const rollout = state.rollout || [];
  document.getElementById("rollout-summary").textContent = rollout.length ? ""
    : "not rolling between artifact versions (serve --artifact-root turns it on)";
  fill("rollout", rollout, [["worker"], ["serving"], ["loading"], [r => r.pin || "newest"],
    ["load_seconds", "num"], ["warmup_seconds", "num"], ["swaps", "num"], ["last_refused", "bad"],
    [r => r.last_refused ? r.last_refusal_check + ": " + r.last_refusal_reason : ""]]);
  const versions = [];
  for (const [kind, names] of Object.entries(state.versions)) {
    for (const [name, version] of Object.entries(names)) versions.push({kind, name, version});
  }
  fill("versions", versions, [["kind"], ["name"], ["version"]]);
}

function drawSeries(series) {
  window.consoleSeries = series;
  const times = series.times;
  const protocols = series.protocols;
  lineChart("chart-calls", times, protocols.map((p, i) => ({label: p.protocol,
    color: colorOf(PROTOCOL_COLORS, p.protocol, i), values: p.callsPerSecond})), "calls/s");
  lineChart("chart-errors", times, protocols.filter(p => p.errors > 0).map((p, i) => ({label: p.protocol,
    color: colorOf(PROTOCOL_COLORS, p.protocol, i), values: p.errorsPerSecond})), "errors/s");
  lineChart("chart-latency", times, protocols.flatMap((p, i) => [
    {label: p.protocol + " p50", color: colorOf(PROTOCOL_COLORS, p.protocol, i), values: p.p50Ms, dash: [4, 4]},
    {label: p.protocol + " p99", color: colorOf(PROTOCOL_COLORS, p.protocol, i), values: p.p99Ms}]), "ms");
  const answers = Object.entries(series.answers).map(([name, values], i) =>
    ({label: name, color: colorOf(PIPELINE_COLORS, name, i), values}));
  const shed = Object.entries(series.shed).filter(([, values]) => values.some(v => v > 0)).map(([name, values], i) =>
    ({label: "shed past " + name, color: colorOf(SHED_COLORS, name, i + 4), values, dash: [2, 3]}));
  lineChart("chart-answers", times, [...answers, ...shed], "answers/s");
  lineChart("chart-service-calls", times, series.services.map((s, i) => ({label: s.protocol + " " + s.interface,
    color: PALETTE[i % PALETTE.length], values: s.callsPerSecond})), "calls/s");
  lineChart("chart-service-p99", times, series.services.map((s, i) => ({label: s.protocol + " " + s.interface,
    color: PALETTE[i % PALETTE.length], values: s.p99Ms})), "ms");
  barChart("chart-stages", series.stages.map(s => ({label: s.stage + " (" + s.kind + ")", values: [s.p50Ms, s.p99Ms]})),
    [{label: "p50", color: "#1f77b4"}, {label: "p99", color: "#d62728"}], "ms");
  fill("stages", series.stages, [["stage"], ["kind"], ["count", "num"], ["meanMs", "num"], ["p50Ms", "num"],
    ["p99Ms", "num"]]);
  const missing = series.missingWorkers || [];
  document.getElementById("series-note").textContent = `(${series.workers.length} workers, a sample every `
    + `${series.step} s${missing.length ? "; not answering: " + missing.join(", ") : ""})`;
}

async function refresh() {
  try {
    const state = await authorized("/console/state");
    if (state === null) return;
    drawState(await state.json());
    drawnState = true;
    const series = await authorized("/console/series");
    if (series === null) return;
    drawSeries(await series.json());
    drawnSeries = true;
    document.getElementById("error").textContent = "";
  } catch (error) {
    document.getElementById("error").textContent = "cannot reach the provider: " + error;
  }
  if (drawnState && drawnSeries) document.body.dataset.ready = "yes";
}

wireLogin(refresh);
refresh();
window.consoleRefresh = {refresh, timer: setInterval(refresh, 2000)};
