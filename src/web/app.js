// The page: wires the API to the panels. Loads what exists, then stays live over /v1/events.
import { AuthError, getJson, openEvents, token } from './api.js';
import { drawTimeline, resizeChart } from './chart.js';
import { $, h } from './dom.js';
import { autoBucket, durationMs, durationText } from './format.js';
import { PositionsTable } from './positions.js';
import { renderActors, renderAlerts, renderDataAge, renderScenarios, renderStrategies, renderSummary, setRiskAvailable } from './panels.js';
import { underlyingsOf } from './timeline.js';

const positions = new PositionsTable($('#positions'));
const alerts = new Map();
const state = { risk: false, riskAgeMs: null, riskAgeAt: 0, newestEventMs: null, skewMs: 0, timelineBusy: false, timelineAgain: false, rendered: { chart: false, positions: false } };
const throttles = new Map();
const POSITIONS_REFRESH_MS = 10_000;

/** Runs fn at most once per `ms` (trailing call kept), so bursts of events cost one fetch. */
function throttled(name, ms, fn) {
  const t = throttles.get(name) ?? { last: 0, timer: null };
  throttles.set(name, t);
  if (t.timer) return;
  const wait = Math.max(0, t.last + ms - Date.now());
  t.timer = setTimeout(() => {
    t.timer = null;
    t.last = Date.now();
    fn();
  }, wait);
}

function showError(where, err) {
  if (err instanceof AuthError) return askToken();
  $(where).textContent = err ? String(err.message ?? err) : '';
}

function askToken() {
  const form = $('#token-form');
  form.hidden = false;
  $('#token-input').focus();
}

function markRendered(part) {
  if (!state.rendered[part]) performance.mark(`riskwire:${part}`);
  state.rendered[part] = true;
  if (state.rendered.chart && state.rendered.positions && !document.body.dataset.ready) {
    performance.mark('riskwire:first-render');
    document.body.dataset.ready = 'true';
  }
}

// ---- timeline -------------------------------------------------------------------------------
async function loadTimeline(pickerChanged = false) {
  // One request at a time; a picker change during a request asks again as soon as it is answered
  // (dropping it left the chart on the old range/bucket until the next 5 s reload).
  if (state.timelineBusy) {
    if (pickerChanged) state.timelineAgain = true;
    return;
  }
  state.timelineBusy = true;
  state.timelineAgain = false;
  const range = $('#range').value;
  const bucketSel = $('#bucket').value;
  const bucket = bucketSel === 'auto' ? durationText(autoBucket(durationMs(range))) : bucketSel;
  try {
    const doc = await getJson(`/v1/risk/timeline?since=${range}&bucket=${bucket}&all_accounts=true`);
    const pick = $('#underlying');
    const choices = underlyingsOf(doc.rows);
    const current = pick.value;
    if ([...pick.options].slice(1).map((o) => o.value).join() !== choices.join()) {
      pick.replaceChildren(h('option', { value: '', text: 'All (total)' }), ...choices.map((u) => h('option', { value: u, text: u })));
      pick.value = choices.includes(current) ? current : '';
    }
    $('#bucket-used').textContent = `bucket ${bucket}`;
    drawTimeline(doc.rows, pick.value || null);
    showError('#timeline-error', null);
    markRendered('chart');
  } catch (err) {
    showError('#timeline-error', err);
  } finally {
    state.timelineBusy = false;
    if (state.timelineAgain) loadTimeline(true);
  }
}

// ---- risk engine ----------------------------------------------------------------------------
async function loadRiskPositions() {
  try {
    const doc = await getJson('/v1/risk/positions');
    positions.applyRisk(doc.positions ?? []);
    renderStrategies(doc.strategies ?? []);
  } catch (err) {
    showError('#positions-error', err);
  }
}

async function loadScenarios() {
  try {
    renderScenarios(await getJson('/v1/risk/scenarios'));
  } catch (err) {
    showError('#scenarios-note', err);
  }
}

async function loadAlerts() {
  try {
    const [open, recent] = await Promise.all([getJson('/v1/alerts?open=1'), getJson('/v1/alerts?since=1d')]);
    for (const a of [...recent.alerts, ...open.alerts]) alerts.set(a.id, a);
    renderAlerts(alerts);
  } catch (err) {
    showError('#alerts-error', err);
  }
}

function onRisk(doc) {
  renderSummary(doc);
  if (Number.isFinite(doc.data_age_ms)) {
    state.riskAgeMs = doc.data_age_ms;
    state.riskAgeAt = Date.now();
  }
  throttled('positions', 1000, loadRiskPositions);
  throttled('scenarios', 10_000, loadScenarios);
}

// ---- live -----------------------------------------------------------------------------------
function onHello(msg) {
  state.risk = !!msg.risk;
  setRiskAvailable(state.risk);
  if (state.risk) {
    loadRiskPositions();
    loadScenarios();
    loadAlerts();
  }
}

function onGreeks(msg) {
  if (msg.now) state.skewMs = Date.parse(msg.now) - Date.now();
  for (const r of msg.rows) {
    const t = Date.parse(r.event_ts);
    if (!(state.newestEventMs >= t)) state.newestEventMs = t;
  }
  positions.applyLive(msg.rows, msg.now);
  if (msg.snapshot) tick();
  if (msg.rows.length) markRendered('positions');
}

function onAlert(a) {
  alerts.set(a.id, a);
  renderAlerts(alerts);
}

function setLive(s) {
  const el = $('#live');
  el.textContent = { live: 'live', reconnecting: 'reconnecting…', unauthorized: 'token rejected' }[s] ?? s;
  el.dataset.state = s;
  if (s === 'unauthorized') askToken();
}

/** Data age: the risk engine's (newest snapshot it used), else the newest live greeks event. */
function tick() {
  if (state.riskAgeMs !== null) renderDataAge(state.riskAgeMs + (Date.now() - state.riskAgeAt));
  else renderDataAge(state.newestEventMs === null ? null : Date.now() + state.skewMs - state.newestEventMs);
  positions.render();
}

// ---- start ----------------------------------------------------------------------------------
async function boot() {
  $('#token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token.set($('#token-input').value);
    location.reload();
  });
  $('#forget-token').addEventListener('click', () => {
    token.clear();
    location.reload();
  });
  $('#forget-token').hidden = !token.get();
  // The server says it needs API_TOKEN (a <meta> in the page): ask before any call, not after its 401s.
  if (document.querySelector('meta[name="riskwire-auth"]')?.content === 'bearer' && !token.get()) return askToken();
  for (const id of ['#range', '#bucket', '#underlying']) $(id).addEventListener('change', () => loadTimeline(true));
  addEventListener('resize', () => throttled('resize', 200, resizeChart));
  // The timeline query is the slowest answer: ask for it while the status call checks the token.
  loadTimeline();
  try {
    renderActors(await getJson('/v1/streaming/status'));
  } catch (err) {
    if (err instanceof AuthError) {
      if (token.get()) $('#token-error').textContent = 'that token was not accepted: enter it again';
      return askToken();
    }
    $('#live').textContent = `API unreachable: ${err.message}`;
  }
  setInterval(() => loadTimeline(), 5000);
  setInterval(tick, 1000);
  // `risk` events come only when the totals change: a stopped feed changes nothing, yet its rows
  // turn stale (the engine's stale_feed_s) and must be marked; so the positions are also reread.
  setInterval(() => state.risk && throttled('positions', 1000, loadRiskPositions), POSITIONS_REFRESH_MS);
  openEvents({ hello: onHello, greeks: onGreeks, status: renderActors, risk: onRisk, alert: onAlert }, setLive);
}

boot();
