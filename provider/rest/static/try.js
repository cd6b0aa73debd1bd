// The try-it page: the same request over the dubbo:// path (/console/explain: the shim calls its own
// dubbo:// port with the project's client, debug on) and the REST path (/recommend?explain=true), each
// answer drawn stage by stage: a table (candidates in/out, channel mix, top scores before -> after,
// time) and bar charts of time and candidates per stage. ?userId=&scene=&count= in the page's address
// runs it at once. window.tryAnswers keeps the answers drawn (the Chromium test compares the tables
// with them); document.body.dataset.ready is "yes" once both are drawn.
"use strict";

window.tryAnswers = {};
const TOP_SHOWN = 5;

function mix(channels) {
  return Object.entries(channels || {}).sort((a, b) => b[1] - a[1]).map(([name, n]) => name + " " + n).join(", ");
}

function topScores(top) {
  return (top || []).slice(0, TOP_SHOWN).map(t =>
    t.itemId + ": " + (t.before === undefined || t.before === null ? "new" : t.before.toFixed(3))
    + " \u2192 " + t.score.toFixed(3)).join("; ");
}

function draw(path, answer) {
  window.tryAnswers[path] = answer;
  const section = document.getElementById(path);
  const stages = (answer.explain || []).filter(s => s.millis !== undefined && s.millis !== null);
  section.querySelector(".summary").textContent = answer.items === undefined ? "failed: " + answer.detail
    : `code ${answer.code}, pipeline ${answer.pipeline}${answer.degraded ? " (degraded)" : ""}, `
      + `${answer.items.length} items, ${stages.length} stages; ${answer.message}`;
  fill(path + "-stages", answer.explain || [], [["stage"], ["kind"], ["candidatesIn", "num"],
    ["candidatesOut", "num"], [s => s.millis === undefined ? "" : s.millis.toFixed(2), "num"],
    [s => s.detail && Object.keys(s.detail).length ? JSON.stringify(s.detail) : mix(s.channels)],
    [s => topScores(s.top), "scores"]]);
  fill(path + "-items", (answer.items || []).map((item, i) => ({rank: i + 1, ...item})),
    [["rank", "num"], ["itemId"], [i => i.score.toFixed(4), "num"], ["channel"]]);
  barChart(path + "-time", stages.map(s => ({label: s.stage, values: [s.millis]})),
    [{label: "ms", color: "#1f77b4"}], "ms");
  barChart(path + "-counts", stages.map(s => ({label: s.stage, values: [s.candidatesIn, s.candidatesOut]})),
    [{label: "in", color: "#9467bd"}, {label: "out", color: "#2ca02c"}], "");
  const problems = [...(answer.failures || []).map(f => "failed: " + f), ...(answer.notes || []).map(n => "note: " + n)];
  section.querySelector(".failures").textContent = problems.join("; ");
}

async function ask(path, url) {
  const answer = await authorized(url);
  if (answer === null) return false;
  draw(path, await answer.json());
  return true;
}

async function run() {
  const userId = document.getElementById("userId").value.trim();
  if (!userId) return;
  const query = new URLSearchParams({userId, scene: document.getElementById("scene").value,
                                     count: document.getElementById("count").value || "10"});
  document.body.dataset.ready = "no";
  try {
    const drawn = await Promise.all([ask("dubbo", "/console/explain?" + query),
                                     ask("rest", "/recommend?" + query + "&explain=true")]);
    document.getElementById("error").textContent = "";
    if (drawn.every(Boolean)) document.body.dataset.ready = "yes";
  } catch (error) {
    document.getElementById("error").textContent = "cannot reach the provider: " + error;
  }
}

async function start() {
  const given = new URLSearchParams(location.search);
  const choices = await authorized("/console/choices");
  let offered = {users: [], scenes: []};
  if (choices !== null) offered = await choices.json();
  const users = document.getElementById("users");
  users.textContent = "";
  for (const user of offered.users) {
    const option = document.createElement("option");
    option.value = user;
    users.append(option);
  }
  const scene = document.getElementById("scene");
  for (const name of offered.scenes) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    scene.append(option);
  }
  document.getElementById("userId").value = given.get("userId") || offered.users[0] || "u1";
  if (given.get("scene") !== null) scene.value = given.get("scene");
  if (given.get("count")) document.getElementById("count").value = given.get("count");
  if (given.get("userId")) run();
}

document.getElementById("ask").addEventListener("submit", event => { event.preventDefault(); run(); });
wireLogin(start);
start();
