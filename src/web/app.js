// arbor's dashboard: the control protocol over HTTP (POST /api/v1, GET
// /api/v1/<cmd>) and its event stream (GET /api/v1/stream). No framework.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { tree: null, fetchedAt: 0, samples: {}, view: 'tree', detail: null, logFrom: -1 };

// --- the token: from #token=... once, then kept in this browser -------------
const tokenInput = $('#token');
if (location.hash.startsWith('#token=')) {
  localStorage.setItem('arbor.token', decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, '', location.pathname);
}
tokenInput.value = localStorage.getItem('arbor.token') || '';
tokenInput.addEventListener('change', () => localStorage.setItem('arbor.token', tokenInput.value));

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (tokenInput.value) h['X-Arbor-Token'] = tokenInput.value;
  return h;
}

async function getJSON(path) {
  const res = await fetch(path, { headers: headers(), cache: 'no-store' });
  const body = await res.json();
  if (!body.ok) throw new Error(body.error.code + ': ' + body.error.message);
  return body.result;
}

let nextId = 1;
async function call(cmd, args) {
  const res = await fetch('/api/v1', {
    method: 'POST', headers: headers(),
    body: JSON.stringify({ v: 1, id: nextId++, cmd, args }),
  });
  return res.json();
}

function say(text, bad) {
  const m = $('#message');
  m.textContent = text;
  m.className = bad ? 'error' : 'ok';
}

// --- formatting ---------------------------------------------------------------
function bytes(n) {
  if (n == null) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + u[i];
}
function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd' + Math.floor(s / 3600) % 24 + 'h';
}
/// The health check's verdict if there is one, else whether it is ready yet.
function readiness(x) {
  if (x.health) return x.health;
  if (!x.pid) return '–';
  return x.state === 'ready' ? 'yes' : 'not yet';
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

// --- sparklines -----------------------------------------------------------------
function sparkline(svg, points, index, w, h) {
  svg.replaceChildren();
  const vals = points.filter((p) => p[index] != null);
  if (vals.length < 2) return;
  // The last 10 minutes, or since the first sample (at least a minute).
  const t1 = Date.now(), t0 = Math.max(t1 - 10 * 60 * 1000, Math.min(vals[0][0], t1 - 60 * 1000));
  const max = Math.max(...vals.map((p) => p[index]), index === 2 ? 1 : 1024) * 1.25;
  const xy = vals.map((p) => [((p[0] - t0) / (t1 - t0)) * w, h - 2 - (p[index] / max) * (h - 4)]);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', xy.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' '));
  svg.appendChild(line);
}
function smallSparkline(id) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 100 20');
  svg.classList.add('spark');
  sparkline(svg, state.samples[id] || [], 1, 100, 20);
  return svg;
}

// --- the tree -------------------------------------------------------------------
function actionButton(action, target) {
  const b = el('button', 'act', action);
  b.dataset.action = action;
  b.dataset.target = target;
  return b;
}

function instanceRow(x, depth) {
  const tr = el('tr', 'instance');
  tr.dataset.id = x.id;
  const name = el('td', 'name');
  name.style.paddingLeft = depth * 1.2 + 'em';
  const a = el('a', null, x.id);
  a.href = '#';
  a.dataset.open = x.id;
  name.appendChild(a);
  tr.appendChild(name);
  let st = x.state;
  if (x.next_try_ms) st += ' (next in ' + Math.ceil(x.next_try_ms / 1000) + 's)';
  tr.appendChild(el('td', 'state s-' + x.state, st));
  tr.appendChild(el('td', 'pid', x.pid ? String(x.pid) : '–'));
  const up = el('td', 'uptime', x.pid ? duration(x.uptime_ms) : '–');
  up.dataset.uptime = x.pid ? x.uptime_ms : '';
  tr.appendChild(up);
  tr.appendChild(el('td', 'restarts', String(x.restarts)));
  tr.appendChild(el('td', 'memory', bytes(x.memory_bytes)));
  tr.appendChild(el('td', 'cpu', x.cpu_percent == null ? '–' : x.cpu_percent.toFixed(1) + '%'));
  const spark = el('td');
  spark.appendChild(smallSparkline(x.id));
  tr.appendChild(spark);
  tr.appendChild(el('td', 'health', readiness(x)));
  tr.appendChild(el('td', 'exit', x.last_exit || ''));
  const acts = el('td', 'actions');
  acts.append(actionButton('restart', x.id), actionButton(x.pid ? 'stop' : 'start', x.id));
  tr.appendChild(acts);
  return tr;
}

/// "2 of 5 restarts in 60s": how much of the group's limit is used.
function intensityText(i) {
  return i ? ' · ' + i.used + ' of ' + i.max + ' restarts in ' + i.period_s + 's' : '';
}

function nodeRows(n, depth, out) {
  if (n.name !== '') {
    const tr = el('tr', n.kind);
    tr.dataset.node = n.name;
    const name = el('td', 'name', n.name);
    name.style.paddingLeft = depth * 1.2 + 'em';
    tr.appendChild(name);
    tr.appendChild(el('td', 'state s-' + n.state, n.state));
    const info = el('td', 'info', n.kind === 'group' ? n.strategy + intensityText(n.intensity) : n.restart || '');
    info.colSpan = 8;
    tr.appendChild(info);
    const acts = el('td', 'actions');
    acts.append(actionButton('restart', n.name));
    if (n.kind === 'app') acts.append(actionButton('reload', n.name), actionButton('scale', n.name));
    tr.appendChild(acts);
    out.push(tr);
  }
  for (const x of n.instances || []) out.push(instanceRow(x, depth + 1));
  for (const c of n.children || []) nodeRows(c, depth + 1, out);
}

function renderTree() {
  const rows = [];
  nodeRows(state.tree, -1, rows);
  $('#tree tbody').replaceChildren(...rows);
  if (state.view === 'detail') renderDetail();
}

function tickUptimes() {
  const since = Date.now() - state.fetchedAt;
  for (const td of document.querySelectorAll('td.uptime')) {
    if (td.dataset.uptime) td.textContent = duration(Number(td.dataset.uptime) + since);
  }
}

let treeTimer = null;
function refreshSoon(ms) {
  if (treeTimer) return;
  treeTimer = setTimeout(() => { treeTimer = null; loadTree(); }, ms);
}

async function loadTree() {
  try {
    const r = await getJSON('/api/v1/tree');
    state.tree = r.root;
    state.fetchedAt = Date.now();
    state.samples = (await getJSON('/api/v1/samples')).instances;
    window.arborSamples = state.samples; // for tests/web/dashboard_test.py
    renderTree();
  } catch (e) {
    say(String(e.message || e), true);
  }
}

// --- actions --------------------------------------------------------------------
async function act(action, target) {
  const args = { names: [target] };
  if (action === 'scale') {
    const n = prompt('instances of ' + target + ':');
    if (n === null) return;
    delete args.names;
    args.name = target;
    args.instances = Number(n);
  }
  say(action + ' ' + target + '…');
  try {
    const r = await call(action, args);
    if (r.ok) say(action + ' ' + target + ': done');
    else say(action + ' ' + target + ' refused: ' + r.error.code + ': ' + r.error.message, true);
  } catch (e) {
    say(action + ' ' + target + ' failed: ' + e, true);
  }
  refreshSoon(0);
}

document.addEventListener('click', (ev) => {
  const t = ev.target;
  if (t.dataset.action) act(t.dataset.action, t.dataset.target);
  else if (t.dataset.open) { ev.preventDefault(); openDetail(t.dataset.open); }
  else if (t.dataset.view) show(t.dataset.view);
});
$('#back').addEventListener('click', (ev) => { ev.preventDefault(); show('tree'); });

function show(view) {
  state.view = view;
  $('#tree-view').hidden = view !== 'tree';
  $('#detail-view').hidden = view !== 'detail';
  $('#events-view').hidden = view !== 'events';
  for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b.dataset.view === view);
}

// --- instance detail and its logs -----------------------------------------------
function findInstance(n, id) {
  for (const x of n.instances || []) if (x.id === id) return x;
  for (const c of n.children || []) { const f = findInstance(c, id); if (f) return f; }
  return null;
}

function openDetail(id) {
  state.detail = id;
  state.logFrom = -1;
  $('#log').textContent = '';
  show('detail');
  renderDetail();
  loadLog();
}

function renderDetail() {
  const x = state.tree && findInstance(state.tree, state.detail);
  $('#detail-title').textContent = state.detail + (x ? '' : ' (gone)');
  if (!x) return;
  const dl = $('#detail-fields');
  dl.replaceChildren();
  const fields = [['state', x.state], ['pid', x.pid || '–'], ['uptime', x.pid ? duration(x.uptime_ms) : '–'],
    ['restarts', x.restarts], ['short runs', x.short_runs], ['memory', bytes(x.memory_bytes)],
    ['CPU', x.cpu_percent == null ? '–' : x.cpu_percent.toFixed(1) + '%'], ['readiness', readiness(x)],
    ['port', x.port || '–'], ['last exit', x.last_exit || '–'], ['reason', x.reason || '–']];
  if (x.next_try_ms) fields.push(['next restart in', Math.ceil(x.next_try_ms / 1000) + 's']);
  for (const [k, v] of fields) dl.append(el('dt', null, k), el('dd', 'f-' + k.replace(/ /g, '-'), String(v)));
  $('#detail-actions').replaceChildren(actionButton('restart', x.id), actionButton(x.pid ? 'stop' : 'start', x.id));
  const pts = state.samples[x.id] || [];
  sparkline($('#mem-chart'), pts, 1, 300, 60);
  sparkline($('#cpu-chart'), pts, 2, 300, 60);
}

async function loadLog() {
  if (state.view !== 'detail') return;
  const app = state.detail.replace(/#\d+$/, '');
  const q = '/api/v1/log?name=' + encodeURIComponent(app) + '&stream=' + $('#log-stream').value +
    (state.logFrom >= 0 ? '&from=' + state.logFrom : '');
  try {
    const r = await getJSON(q);
    const pre = $('#log');
    if (state.logFrom < 0 || r.from < state.logFrom) pre.textContent = '';
    pre.textContent += r.text;
    if (pre.textContent.length > 200000) pre.textContent = pre.textContent.slice(-100000);
    state.logFrom = r.to;
    if (r.text && $('#log-follow').checked) pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    say(String(e.message || e), true);
  }
}
$('#log-stream').addEventListener('change', () => { state.logFrom = -1; loadLog(); });

// --- events: the last ones, then the stream -------------------------------------
function eventRow(e) {
  const tr = el('tr', 'e-' + e.event);
  for (const v of [e.at.replace('T', ' ').replace('Z', ''), e.supervisor || '(root)', e.event, e.offender, e.pid || '', e.reason])
    tr.appendChild(el('td', null, String(v)));
  return tr;
}
function addEvent(e) {
  const body = $('#events tbody');
  body.prepend(eventRow(e));
  while (body.children.length > 500) body.lastChild.remove();
}

async function follow() {
  try {
    const res = await fetch('/api/v1/stream', { headers: headers(), cache: 'no-store' });
    if (!res.ok) throw new Error('stream: HTTP ' + res.status);
    $('#live').className = 'on';
    refreshSoon(0); // whatever happened while it was away
    const reader = res.body.getReader();
    const text = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += text.decode(value, { stream: true });
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (!data) continue;
        addEvent(JSON.parse(data));
        refreshSoon(50);
      }
    }
  } catch (e) {
    /* the daemon went away: try again below */
  }
  $('#live').className = 'off';
  setTimeout(follow, 2000);
}

async function start() {
  try {
    const p = await getJSON('/api/v1/ping');
    $('#daemon').textContent = 'pid ' + p.pid + ' · ' + p.config;
    const ev = await getJSON('/api/v1/events?last=200');
    for (const e of ev.events) addEvent(e);
  } catch (e) {
    say(String(e.message || e), true);
  }
  await loadTree();
  follow();
  setInterval(loadTree, 5000);
  setInterval(tickUptimes, 1000);
  setInterval(() => { if ($('#log-follow').checked) loadLog(); }, 1000);
}
start();
