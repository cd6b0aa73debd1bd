// The console's only script: poll /console/state, draw the tables. Text goes in with
// textContent only (service and method names come from the wire). With JWT on, a 401
// or 403 shows the login form; the token lives in sessionStorage for this tab only.
"use strict";

const TOKEN_KEY = "dubbo-recsys-token";

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = value === undefined || value === null ? "" : String(value);
  if (className) td.className = className;
  row.append(td);
}

function fill(tableId, rows, columns) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.textContent = "";
  for (const item of rows) {
    const row = document.createElement("tr");
    for (const [key, className] of columns) cell(row, typeof key === "function" ? key(item) : item[key], className);
    body.append(row);
  }
}

function draw(state) {
  document.getElementById("phase").textContent = state.phase;
  document.getElementById("phase").className = state.ready ? "good" : "bad";
  document.getElementById("address").textContent = state.dubboAddress || "-";
  document.getElementById("uptime").textContent = Math.round(state.uptimeSeconds);
  document.getElementById("registry").textContent = state.registry.address + " (" + state.registry.state + ")";
  fill("services", state.services, [["interface"], ["version"], ["group"],
    [s => s.methods.join(", ")], [() => state.registry.state]]);
  fill("methods", state.methods, [["protocol"], ["interface"], ["method"], ["calls", "num"], ["errors", "num"],
    ["qps", "num"], ["meanMs", "num"]]);
  fill("breakers", state.breakers, [["name"], ["state"]]);
  const realtime = state.realtime || {};
  document.getElementById("realtime-summary").textContent = realtime.consumers === undefined ? "not configured"
    : `${realtime.liveItems} live items, ${realtime.removedItems} removed, ${realtime.trendingItems} trending, `
      + `${realtime.followErrors} follower errors`;
  fill("realtime", realtime.rows || [], [["consumer"], ["source"], ["group"], ["applied", "num"],
    ["duplicates", "num"], ["deadLettered", "num"], ["lag", "num"], ["partitions", "num"], ["freshnessP50"],
    ["freshnessP99"]]);
  const versions = [];
  for (const [kind, names] of Object.entries(state.versions)) {
    for (const [name, version] of Object.entries(names)) versions.push({kind, name, version});
  }
  fill("versions", versions, [["kind"], ["name"], ["version"]]);
}

async function refresh() {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  try {
    const answer = await fetch("/console/state", {headers});
    if (answer.status === 401 || answer.status === 403) {
      document.getElementById("login").style.display = "block";
      document.getElementById("error").textContent = (await answer.json()).detail;
      return;
    }
    document.getElementById("login").style.display = "none";
    document.getElementById("error").textContent = "";
    draw(await answer.json());
  } catch (error) {
    document.getElementById("error").textContent = "cannot reach the provider: " + error;
  }
}

document.getElementById("login").addEventListener("submit", async event => {
  event.preventDefault();
  const answer = await fetch("/login", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: document.getElementById("username").value,
                          password: document.getElementById("password").value})});
  const document_ = await answer.json();
  if (answer.ok) sessionStorage.setItem(TOKEN_KEY, document_.access_token);
  else document.getElementById("error").textContent = document_.detail;
  refresh();
});

refresh();
setInterval(refresh, 2000);
