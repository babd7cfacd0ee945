// The dashboard: one page, no build step, nothing loaded from elsewhere. It reads
// /api/events (server-sent events: `state` when it changes, `stats` every second,
// `change` per network event) and draws everything with inline CSS and script.
// Every value from the network is put in the page as text, never as markup.

const style = `
:root {
  --bg: #f5f6f8; --panel: #fff; --text: #1c2330; --muted: #697386; --line: #e3e6eb;
  --accent: #2f6fed; --ok: #1a9e5b; --warn: #c77700; --bad: #d23f3f; --chip: #eef2fb;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --panel: #1b2029; --text: #e6e9ef; --muted: #8d97a8; --line: #2a313d;
    --accent: #6d9bff; --chip: #243047;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header {
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px;
  padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line);
}
header h1 { font-size: 17px; margin: 0; font-weight: 650; }
header .where { color: var(--muted); font-family: ui-monospace, monospace; font-size: 12px; }
.pill { padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.pill.live { background: #1a9e5b22; color: var(--ok); }
.pill.down { background: #d23f3f22; color: var(--bad); }
.pill.recovering { background: #c7770022; color: var(--warn); }
main { padding: 16px 20px 32px; display: grid; gap: 16px; }
.tiles { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; min-width: 0; }
section h2 {
  margin: 0; padding: 10px 14px; font-size: 14px; border-bottom: 1px solid var(--line);
  display: flex; align-items: center; gap: 8px;
}
section h2 .count { color: var(--muted); font-weight: 500; }
.body { padding: 10px 14px; overflow-x: auto; }
.empty { color: var(--muted); padding: 6px 0; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th {
  text-align: left; color: var(--muted); font-weight: 500; font-size: 12px; padding: 4px 8px 4px 0;
  white-space: nowrap;
}
td { padding: 5px 8px 5px 0; border-top: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; }
.mono { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.nowrap { white-space: nowrap; word-break: normal; }
.chip {
  display: inline-block; background: var(--chip); border-radius: 6px; padding: 0 6px;
  margin: 1px 3px 1px 0; font-size: 12px; white-space: nowrap; word-break: normal;
}
button.chip { border: 1px solid transparent; color: inherit; cursor: pointer; font: inherit; font-size: 12px; }
button.chip.on { border-color: var(--accent); color: var(--accent); }
.state { font-size: 12px; font-weight: 600; }
.state.live { color: var(--ok); } .state.unused { color: var(--warn); }
.state.starting, .state.standby { color: var(--muted); }
.agents { display: grid; gap: 10px; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); }
.agent { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; cursor: pointer; }
.agent:hover { border-color: var(--muted); }
.agent.on { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
.agent .id { font-weight: 600; word-break: break-all; }
.chip.draining { margin-left: 6px; color: var(--warn); font-weight: 400; }
.agent .load { display: flex; gap: 14px; margin-top: 4px; color: var(--muted); font-size: 12px; }
.agent .load b { color: var(--text); font-size: 15px; }
.bar { height: 4px; background: var(--line); border-radius: 2px; margin-top: 6px; overflow: hidden; }
.bar > div { height: 100%; background: var(--accent); }
.filters { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 8px; }
.filters input {
  flex: 1 1 160px; min-width: 0; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--bg); color: var(--text); font: inherit;
}
svg.spark { width: 100%; height: 56px; display: block; margin-bottom: 8px; }
svg.spark path { fill: none; stroke: var(--accent); stroke-width: 1.5; }
svg.spark path.area { fill: var(--accent); opacity: .12; stroke: none; }
.events { list-style: none; margin: 0; padding: 0; max-height: 340px; overflow-y: auto; }
.events li { padding: 4px 0; border-top: 1px solid var(--line); display: flex; gap: 8px; flex-wrap: wrap; }
.events li:first-child { border-top: 0; }
.events time { color: var(--muted); font-family: ui-monospace, monospace; font-size: 12px; }
.change.added { color: var(--ok); } .change.removed { color: var(--bad); } .change.updated { color: var(--warn); }
.muted { color: var(--muted); }
@media (max-width: 560px) {
  header, main { padding-left: 10px; padding-right: 10px; }
  .wide { display: none; }
  .tile .value { font-size: 20px; }
}
`

const script = `
'use strict'
const $ = (id) => document.getElementById(id)
function h(tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') node.className = value
    else if (key === 'onclick') node.onclick = value
    else if (key === 'onkeydown') node.onkeydown = value
    else node.setAttribute(key, value)
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}
const short = (id) => (id && id.length > 24 ? id.slice(0, 8) + '…' + id.slice(-4) : id || '')
const fmt = (n, digits = 1) => n === null || n === undefined ? '–'
  : n >= 1000 ? (n / 1000).toFixed(1) + 'k' : Number(n.toFixed(digits)).toString()
const mib = (bytes) => (bytes / 1048576).toFixed(1) + ' MiB'

let state = null
let agentLoad = new Map()
const history = []
const events = []
let kindFilter = ''
let labelFilter = ''
let agentFilter = ''

function setStatus(kind, text) {
  const pill = $('status')
  pill.className = 'pill ' + kind
  pill.textContent = text
}

function renderTiles(stats) {
  if (state) {
    $('t-agents').textContent = state.agents.length
    $('t-containers').textContent = state.containers.filter((c) => c.state !== 'standby').length
    $('t-clients').textContent = state.clients.length
    $('t-references').textContent = state.references
  }
  if (stats) {
    const routed = stats.requests.reduce((sum, r) => sum + r.perSecond, 0)
    $('t-rate').textContent = fmt(routed)
    const p99 = Math.max(0, ...stats.requests.filter((r) => r.p99Ms !== null).map((r) => r.p99Ms))
    $('t-p99').textContent = stats.requests.some((r) => r.p99Ms !== null) ? fmt(p99, 2) + ' ms' : '–'
    $('t-rss').textContent = mib(stats.rssBytes)
  }
}

function renderAgents() {
  const list = $('agents')
  $('agents-count').textContent = state.agents.length
  const most = Math.max(1, ...state.agents.map((a) => a.containers))
  list.replaceChildren(...state.agents.map((agent) =>
    h('div', {
      class: 'agent' + (agentFilter === agent.agentId ? ' on' : ''), 'data-agent': agent.agentId,
      role: 'button', tabindex: '0', title: 'show only its containers',
      onclick: () => selectAgent(agent.agentId),
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') selectAgent(agent.agentId) },
    },
      h('div', { class: 'id', title: agent.agentId }, agent.agentId,
        agent.draining ? h('span', { class: 'chip draining', title: 'its containers move to other agents; nothing new is placed on it' }, 'draining') : null),
      h('div', {}, agent.kinds.map((kind) => h('span', { class: 'chip' }, kind))),
      agent.endpoint ? h('div', { class: 'mono muted' }, agent.endpoint) : h('div', { class: 'muted' }, 'no endpoint'),
      h('div', { class: 'load' },
        h('span', {}, h('b', {}, agent.containers), ' containers'),
        h('span', {}, h('b', {}, fmt(agentLoad.get(agent.agentId)?.perSecond || 0)), ' req/s'),
        h('span', {}, h('b', {}, agentLoad.get(agent.agentId)?.inFlight || 0), ' in flight')),
      h('div', { class: 'bar' }, h('div', { style: 'width:' + (100 * agent.containers / most) + '%' })))
  ))
  if (state.agents.length === 0) list.replaceChildren(h('div', { class: 'empty' }, 'No agent registered.'))
}

function selectAgent(agentId) {
  agentFilter = agentFilter === agentId ? '' : agentId
  renderAgents()
  renderContainers()
}

function renderContainers() {
  const counts = new Map()
  for (const c of state.containers) counts.set(c.kind, (counts.get(c.kind) || 0) + 1)
  const kinds = [...counts.keys()].sort()
  if (kindFilter && !counts.has(kindFilter)) kindFilter = ''
  if (agentFilter && !state.agents.some((a) => a.agentId === agentFilter)) agentFilter = ''
  $('kinds').replaceChildren(
    h('button', { class: 'chip' + (kindFilter === '' ? ' on' : ''), onclick: () => { kindFilter = ''; renderContainers() } }, 'all ' + state.containers.length),
    ...kinds.map((kind) => h('button', {
      class: 'chip' + (kindFilter === kind ? ' on' : ''), 'data-kind': kind,
      onclick: () => { kindFilter = kind; renderContainers() },
    }, kind + ' ' + counts.get(kind))),
    agentFilter ? h('button', {
      class: 'chip on', id: 'agent-filter', title: 'show every agent',
      onclick: () => { agentFilter = ''; renderAgents(); renderContainers() },
    }, 'agent ' + short(agentFilter) + ' ×') : '')
  const needle = labelFilter.trim().toLowerCase()
  const shown = state.containers.filter((c) => (!kindFilter || c.kind === kindFilter) &&
    (!agentFilter || c.agentId === agentFilter) &&
    (!needle || c.labels.some((label) => label.toLowerCase().includes(needle))))
  $('containers-count').textContent = state.containers.length
  const rows = shown.slice(0, 500).map((c) =>
    h('tr', { 'data-container': c.uuid },
      h('td', { class: 'mono nowrap', title: c.uuid }, short(c.uuid)),
      h('td', {}, c.kind),
      h('td', {}, h('span', { class: 'state ' + c.state }, c.state)),
      h('td', { class: 'mono nowrap', title: c.agentId }, short(c.agentId)),
      h('td', {}, c.labels.map((label) => h('span', { class: 'chip' }, label))),
      h('td', { class: 'num' }, c.references)))
  $('containers').replaceChildren(...rows)
  $('containers-empty').textContent = shown.length === 0 ? 'No container matches.' :
    shown.length > 500 ? 'Showing 500 of ' + shown.length + '.' : ''
}

function renderClients() {
  const sessions = new Set(state.sessions)
  const agentsOf = new Map(state.agents.filter((a) => a.clientId).map((a) => [a.clientId, a.agentId]))
  $('clients-count').textContent = state.clients.length
  $('clients').replaceChildren(...state.clients.map((client) => {
    const held = client.references.reduce((sum, r) => sum + r.count, 0)
    return h('tr', { 'data-client': client.clientId },
      h('td', { class: 'mono nowrap', title: client.clientId },
        h('span', { class: sessions.has(client.clientId) ? 'change added' : 'muted', title: sessions.has(client.clientId) ? 'connected' : 'no session' }, '● '),
        short(client.clientId)),
      h('td', {}, agentsOf.has(client.clientId) ? h('span', { class: 'chip' }, 'agent host') : ''),
      h('td', { class: 'num' }, held),
      h('td', {}, client.references.map((r) =>
        h('span', { class: 'chip mono', title: r.uuid }, short(r.uuid) + (r.count > 1 ? ' ×' + r.count : '')))))
  }))
  $('clients-empty').textContent = state.clients.length === 0 ? 'No client.' : ''
}

function renderRequests(stats) {
  const rows = stats.requests.filter((r) => r.total > 0)
    .sort((a, b) => b.perSecond - a.perSecond || b.total - a.total)
  $('requests').replaceChildren(...rows.map((r) =>
    h('tr', {},
      h('td', { class: 'mono nowrap' }, r.operation),
      h('td', {}, r.kind || h('span', { class: 'muted' }, '–')),
      h('td', { class: 'num' }, fmt(r.perSecond)),
      h('td', { class: 'num wide' }, fmt(r.p50Ms, 2)),
      h('td', { class: 'num' }, fmt(r.p99Ms, 2)),
      h('td', { class: 'num' + (r.errorsPerSecond > 0 ? ' change removed' : '') }, fmt(r.errorsPerSecond)),
      h('td', { class: 'num muted wide' }, fmt(r.total, 0)))))
  $('requests-empty').textContent = rows.length === 0 ? 'No request yet.' : ''
  history.push(stats.requests.reduce((sum, r) => sum + r.perSecond, 0))
  if (history.length > 90) history.shift()
  const top = Math.max(1, ...history)
  // The newest point on the right edge, 90 points (seconds) across.
  const points = history.map((v, i) => [300 - (history.length - 1 - i) * (300 / 89), 52 - (v / top) * 48])
  const line = points.map(([x, y], i) => (i ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1)).join(' ')
  $('spark-line').setAttribute('d', line)
  $('spark-area').setAttribute('d', points.length
    ? line + ' L300 56 L' + points[0][0].toFixed(1) + ' 56 Z' : '')
  $('spark-top').textContent = 'peak ' + fmt(top) + ' req/s over the last ' + history.length + ' s'
}

function renderEvents() {
  $('events').replaceChildren(...events.map((e) =>
    h('li', {},
      h('time', {}, new Date(e.at).toLocaleTimeString()),
      h('span', { class: 'change ' + e.type }, e.type),
      h('span', {}, e.subject),
      h('span', { class: 'mono', title: e.id }, e.id),
      e.kind ? h('span', { class: 'chip' }, e.kind) : '')))
  if (events.length === 0) $('events').replaceChildren(h('li', { class: 'empty' }, 'Waiting for changes…'))
}

function onState(next) {
  state = next
  $('where').textContent = next.endpoint
  if (next.recovering) setStatus('recovering', 'recovering')
  else setStatus('live', 'live')
  renderTiles()
  renderAgents()
  renderContainers()
  renderClients()
}

function onChange(change) {
  for (const { type, agent } of change.agents) {
    events.unshift({ at: change.at, type, subject: 'agent', id: agent.agentId, kind: agent.kinds.join(', ') })
  }
  for (const { type, container } of change.containers) {
    events.unshift({ at: change.at, type, subject: 'container', id: container.uuid, kind: container.kind })
  }
  events.length = Math.min(events.length, 200)
  renderEvents()
}

function connect() {
  const source = new EventSource('api/events')
  source.addEventListener('state', (e) => onState(JSON.parse(e.data)))
  source.addEventListener('stats', (e) => {
    const stats = JSON.parse(e.data)
    renderTiles(stats)
    renderRequests(stats)
    agentLoad = new Map(stats.agents.map((a) => [a.agentId, a]))
    if (state) renderAgents()
  })
  source.addEventListener('change', (e) => onChange(JSON.parse(e.data)))
  source.onopen = () => setStatus('live', 'live')
  source.onerror = () => setStatus('down', 'reconnecting…')
}

$('label-filter').addEventListener('input', (e) => { labelFilter = e.target.value; if (state) renderContainers() })
renderEvents()
connect()
`

/** The dashboard page served at `/`. */
export const dashboardPage: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Huly Network</title>
<style>${style}</style>
</head>
<body>
<header>
  <h1>Huly Network</h1>
  <span class="pill down" id="status">connecting…</span>
  <span class="where" id="where"></span>
</header>
<main>
  <div class="tiles">
    <div class="tile"><div class="label">Agents</div><div class="value" id="t-agents">–</div></div>
    <div class="tile"><div class="label">Containers</div><div class="value" id="t-containers">–</div></div>
    <div class="tile"><div class="label">Clients</div><div class="value" id="t-clients">–</div></div>
    <div class="tile"><div class="label">References</div><div class="value" id="t-references">–</div></div>
    <div class="tile"><div class="label">Requests/s</div><div class="value" id="t-rate">–</div></div>
    <div class="tile"><div class="label">Slowest p99</div><div class="value" id="t-p99">–</div></div>
    <div class="tile"><div class="label">Memory</div><div class="value" id="t-rss">–</div></div>
  </div>
  <div class="grid">
    <section>
      <h2>Agents <span class="count" id="agents-count"></span></h2>
      <div class="body"><div class="agents" id="agents"><div class="empty">Loading…</div></div></div>
    </section>
    <section>
      <h2>Requests</h2>
      <div class="body">
        <svg class="spark" viewBox="0 0 300 56" preserveAspectRatio="none" aria-label="requests per second">
          <path class="area" id="spark-area" d=""></path><path id="spark-line" d=""></path>
        </svg>
        <div class="muted" id="spark-top"></div>
        <table>
          <thead><tr><th>operation</th><th>kind</th><th class="num">req/s</th><th class="num wide">p50 ms</th>
          <th class="num">p99 ms</th><th class="num">err/s</th><th class="num wide">total</th></tr></thead>
          <tbody id="requests"></tbody>
        </table>
        <div class="empty" id="requests-empty">No request yet.</div>
      </div>
    </section>
    <section>
      <h2>Containers <span class="count" id="containers-count"></span></h2>
      <div class="body">
        <div class="filters">
          <span id="kinds"></span>
          <input id="label-filter" type="search" placeholder="filter by label" aria-label="filter by label">
        </div>
        <table>
          <thead><tr><th>uuid</th><th>kind</th><th>state</th><th>agent</th><th>labels</th><th class="num">refs</th></tr></thead>
          <tbody id="containers"></tbody>
        </table>
        <div class="empty" id="containers-empty"></div>
      </div>
    </section>
    <section>
      <h2>Clients <span class="count" id="clients-count"></span></h2>
      <div class="body">
        <table>
          <thead><tr><th>client</th><th></th><th class="num">refs</th><th>holds</th></tr></thead>
          <tbody id="clients"></tbody>
        </table>
        <div class="empty" id="clients-empty"></div>
      </div>
    </section>
    <section>
      <h2>Events</h2>
      <div class="body"><ul class="events" id="events"></ul></div>
    </section>
  </div>
</main>
<script>${script}</script>
</body>
</html>
`
