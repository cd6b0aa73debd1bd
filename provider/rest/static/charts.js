// Chart helpers shared by the console and the try-it page: time series with the vendored uPlot
// (uPlot.iife.min.js, MIT, see uPlot.LICENSE), and horizontal bar charts drawn on a plain canvas.
// Every chart registers in window.consoleCharts under its name with plotRect(): the plot area in
// page pixels (the headless-Chromium tests read it to check the screenshot's pixels there).
"use strict";

window.consoleCharts = window.consoleCharts || {};

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const PROTOCOL_COLORS = {dubbo: "#1f77b4", grpc: "#2ca02c", rest: "#ff7f0e"};
const PIPELINE_COLORS = {full: "#2ca02c", light: "#ff7f0e", popular: "#d62728"};
const SHED_COLORS = {full: "#9467bd", light: "#8c564b"};
const CHART_WIDTH = 600, CHART_HEIGHT = 200;

function colorOf(table, name, index) {
  return table[name] || PALETTE[index % PALETTE.length];
}

// A line chart of `series` ([{label, color, values, dash}]) over `times` (seconds), drawn into the
// element with id `id`; made again only when the set of series changes, else given the new data.
function lineChart(id, times, series, unit) {
  const box = document.getElementById(id);
  const holder = box.querySelector(".plot");
  const empty = box.querySelector(".empty");
  const shown = series.filter(s => s.values.some(v => v !== null && v !== undefined));
  if (empty) empty.style.display = shown.length ? "none" : "block";
  const key = shown.map(s => s.label + s.color).join("|");
  let chart = window.consoleCharts[id];
  if (chart && chart.key !== key) {
    chart.uplot.destroy();
    chart = null;
  }
  const data = [times, ...shown.map(s => s.values)];
  if (!chart) {
    holder.textContent = "";
    const options = {
      width: CHART_WIDTH,
      height: CHART_HEIGHT,
      legend: {show: true, live: false},
      cursor: {show: false},
      scales: {x: {time: true}, y: {range: (_u, min, max) => [0, Math.max(max * 1.1, unit === "ms" ? 1 : 0.5)]}},
      axes: [{}, {label: unit, size: 56}],
      series: [{}, ...shown.map(s => ({label: s.label, stroke: s.color, width: 2, dash: s.dash, spanGaps: false,
                                         points: {show: false}}))],
    };
    const uplot = new uPlot(options, data, holder);
    chart = {key, uplot, plotRect: () => uplot.over.getBoundingClientRect(),
             xPos: t => uplot.over.getBoundingClientRect().left + uplot.valToPos(t, "x", false)};
    window.consoleCharts[id] = chart;
  } else {
    chart.uplot.setData(data);
  }
  return chart;
}

// Horizontal bars: one group per row ({label, values: [...]}) with one bar per `bars` entry
// ({label, color}); lengths scale to the largest value. Values are labelled at the bar's end.
function barChart(id, rows, bars, unit) {
  const box = document.getElementById(id);
  const canvas = box.querySelector("canvas");
  const empty = box.querySelector(".empty");
  if (empty) empty.style.display = rows.length ? "none" : "block";
  const barHeight = 12, gap = 8, left = 150, right = 70, top = 4;
  const height = Math.max(40, top + rows.length * (bars.length * barHeight + gap) + 4);
  canvas.width = CHART_WIDTH;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.font = "12px system-ui, sans-serif";
  context.textBaseline = "middle";
  const largest = Math.max(1e-9, ...rows.flatMap(r => r.values.filter(v => v !== null && v !== undefined)));
  const span = CHART_WIDTH - left - right;
  rows.forEach((row, r) => {
    const y0 = top + r * (bars.length * barHeight + gap);
    context.fillStyle = "#222";
    context.fillText(row.label, 4, y0 + bars.length * barHeight / 2);
    bars.forEach((bar, b) => {
      const value = row.values[b];
      if (value === null || value === undefined) return;
      const length = value > 0 ? Math.max(4, Math.round(span * value / largest)) : 0;  // a short bar stays visible
      context.fillStyle = bar.color;
      if (length) context.fillRect(left, y0 + b * barHeight + 1, length, barHeight - 2);
      context.fillStyle = "#222";
      const text = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
      context.fillText(text + (unit ? " " + unit : ""), left + length + 4, y0 + b * barHeight + barHeight / 2);
    });
  });
  const legend = box.querySelector(".legend");
  if (legend) {
    legend.textContent = "";
    for (const bar of bars) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = bar.color;
      item.append(swatch, bar.label);
      legend.append(item);
    }
  }
  const chart = {
    plotRect: () => {
      const rect = canvas.getBoundingClientRect();
      return {x: rect.x + left, y: rect.y + top, width: span, height: height - top, left: rect.x + left,
              top: rect.y + top, right: rect.x + left + span, bottom: rect.y + height};
    },
    rows: rows.length,
  };
  window.consoleCharts[id] = chart;
  return chart;
}

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = value === undefined || value === null ? "" : String(value);
  if (className) td.className = className;
  row.append(td);
}

// Fill the body of table `tableId` with one row per item; `columns` are [key or function, class].
function fill(tableId, rows, columns) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.textContent = "";
  for (const item of rows) {
    const row = document.createElement("tr");
    for (const [key, className] of columns) cell(row, typeof key === "function" ? key(item) : item[key], className);
    body.append(row);
  }
}

const TOKEN_KEY = "dubbo-recsys-token";

// fetch() with the session's bearer token; a 401/403 shows the login form and returns null.
async function authorized(url) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const answer = await fetch(url, {headers});
  const login = document.getElementById("login");
  if (answer.status === 401 || answer.status === 403) {
    if (login) login.style.display = "block";
    document.getElementById("error").textContent = (await answer.json()).detail;
    return null;
  }
  if (login) login.style.display = "none";
  return answer;
}

function wireLogin(after) {
  const form = document.getElementById("login");
  if (!form) return;
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const answer = await fetch("/login", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: document.getElementById("username").value,
                            password: document.getElementById("password").value})});
    const document_ = await answer.json();
    if (answer.ok) sessionStorage.setItem(TOKEN_KEY, document_.access_token);
    else document.getElementById("error").textContent = document_.detail;
    after();
  });
}
