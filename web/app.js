// The page: files in, indicators out. The engine runs in a worker (worker.js), the models in
// another (models.js), fed the customers' purchase histories the first one makes, so the
// analysis shows, and stays usable, while the models fit; this module only sends them files
// and options and renders what comes back. Every value that comes from
// a file is put in the page as text (textContent, never innerHTML), and chart tooltips use
// ECharts' rich-text mode, which builds no HTML.
import { LANGS, defaultLang, makeI18n } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// Bidi controls and zero-width characters in user text are shown, not obeyed (bad-input §5.2).
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const visible = (s) => String(s).replace(INVISIBLE, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);

const ORDER_FIELDS = ['order_id', 'customer_id', 'order_date', 'amount', 'quantity', 'unit_price', 'refunded_amount',
  'status', 'channel', 'currency', 'product'];
const SERIES_IDS = ['revenue', 'orders', 'customers', 'aov', 'repeat_purchase_rate', 'returning_customer_share'];
const TABLE_COLUMNS = ['customer_id', 'first_purchase', 'last_purchase', 'orders', 'total_spend', 'mean_order_value',
  'recency_days', 'r_score', 'f_score', 'm_score', 'segment', 'lifecycle', 'cohort',
  'clv_predicted', 'p_alive', 'expected_purchases', 'churn_risk'];
// The columns predict() adds to the customer table (worker.js sends them with the future).
const PREDICTION_COLUMNS = ['clv_predicted', 'p_alive', 'expected_purchases', 'churn_risk'];
const MODELS = ['bg_nbd', 'mbg_nbd', 'pareto_nbd'];
// Future value cards: the model's metrics, with the report's clv_simple beside clv_predicted.
const FUTURE_CARDS = ['clv_predicted', 'clv_simple', 'expected_purchases', 'p_alive', 'value_at_risk',
  'expected_order_value', 'churn_risk'];
// Length of the top-customer and value-at-risk lists (the full ranking is the customer table).
const FUTURE_TOP = 10;
const PAGE_SIZE = 25;

const state = {
  lang: 'en',
  i18n: null,
  files: [],          // [{ blob, name, options }]: what the engine holds (or should)
  attempt: null,      // the files of a load that failed, to choose other options for
  sample: false,
  report: null,
  fileReports: [],
  customers: null,
  period: 'month',
  include: new Set(), // status choices made on the page
  exclude: new Set(),
  seriesMetric: 'revenue',
  asOf: '',           // '' = the last order date
  lapseDays: 180,
  cohortView: 'share',
  future: null,       // predict()'s result, or null with futureError
  futureError: null,
  model: 'bg_nbd',    // the Future value options (predictOptions())
  horizonMonths: 12,
  marginPercent: 100,
  discountPercent: 1,
  readyText: '',      // the status line of the last analysis
  sort: { col: 'total_spend', dir: -1 },
  page: 0,
  order: null,        // customer row order for the current sort
  busy: false,
  fitting: null,      // the fit running: { step, model, done }, or null
  fitCancelled: false,
};

// ---------------------------------------------------------------------------
// The worker

let worker = null;
let engineStale = false;   // the worker lost its tables (cancelled or failed load)
let nextId = 1;
const pending = new Map();

function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    if (data.type === 'progress') {
      p.onProgress?.(data);
      return;
    }
    pending.delete(data.id);
    if (data.type === 'error') p.reject(Object.assign(new Error(data.error.message), { detail: data.error }));
    else p.resolve(data);
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(e.message || 'worker error'));
    pending.clear();
  };
}

function request(msg, onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...msg, id });
  });
}

function cancel() {
  worker.terminate();
  for (const p of pending.values()) p.reject(Object.assign(new Error('cancelled'), { cancelled: true }));
  pending.clear();
  engineStale = true;
  startWorker();
}

// The models' worker: one fit at a time. Cancelling terminates it (the analysis, in the
// engine's worker, stays); the next fit starts a new one and sends it the histories again.
// `loaded`: the worker holds the histories of the analysis shown (set only once a fit on them
// came back); `active`: the token of the fit under way, from asking for histories to showing.
const models = { worker: null, loaded: false, pending: null, nextId: 1, token: 0, active: null, broken: null };

function startModels() {
  models.worker = new Worker(new URL('./models.js', import.meta.url), { type: 'module' });
  models.loaded = false;
  models.worker.onmessage = ({ data }) => {
    const p = models.pending;
    if (!p || data.id !== p.id) return;
    if (data.type === 'progress') {
      p.onProgress?.(data);
      return;
    }
    models.pending = null;
    if (data.type === 'error') p.reject(Object.assign(new Error(data.error.message), { detail: data.error }));
    else p.resolve(data);
  };
  models.worker.onerror = (e) => {
    // A worker that fails with no fit under way (its script did not load) is replaced at the next fit.
    models.broken = e.message || 'models worker error';
    models.pending?.reject(new Error(models.broken));
    models.pending = null;
  };
  models.broken = null;
}

function modelsRequest(msg, transfer, onProgress) {
  const id = models.nextId++;
  if (models.broken) {  // it failed with nothing under way: a fresh one (which says why if it fails too)
    models.worker.terminate();
    startModels();
  }
  return new Promise((resolve, reject) => {
    models.pending = { id, resolve, reject, onProgress };
    models.worker.postMessage({ ...msg, id }, transfer);
  });
}

// Stops the fit under way, if any (waiting for histories, or fitting): its worker goes, with
// the histories it held. True when there was one.
function stopModels() {
  const active = models.active !== null;
  ++models.token;
  models.active = null;
  if (models.pending) {
    models.worker.terminate();
    models.pending.reject(Object.assign(new Error('cancelled'), { cancelled: true }));
    models.pending = null;
    startModels();
  }
  return active;
}

// Fits the models for the analysis shown: on `histories` when a new analysis brought them,
// else on those the models' worker holds (or asks the engine's worker for them again).
async function fitModels(histories = null, historiesError = null) {
  stopModels();
  const token = models.token;
  models.active = token;
  state.fitCancelled = false;
  setFitting({ step: 'start', model: null, done: 0 });
  try {
    if (historiesError) throw Object.assign(new Error(historiesError.message), { detail: historiesError });
    if (!histories && !models.loaded) {
      const res = await request({ type: 'histories' });
      if (token !== models.token) return;
      if (res.historiesError) throw Object.assign(new Error(res.historiesError.message), { detail: res.historiesError });
      histories = res.histories;
    }
    const res = await modelsRequest({ histories, predict: predictOptions() }, histories ? [histories] : [], (p) => {
      if (token === models.token) setFitting(p);
    });
    if (histories) models.loaded = true;
    if (token !== models.token) return;
    setFuture(res);
  } catch (err) {
    if (token !== models.token) return;
    if (err.cancelled) {
      state.fitCancelled = true;
    } else {
      setFuture({ future: null, futureError: err.detail ?? { message: err.message } });
    }
  }
  models.active = null;
  setFitting(null);
  renderFuture();
  renderCustomers();
  // The models, their failure or the reason they did not run are on the page (not a cancel).
  if (!state.fitCancelled) document.body.dataset.modelsReady = String(Date.now());
}

function cancelFit() {
  if (!stopModels()) return;
  state.fitCancelled = true;
  setFitting(null);
  renderFuture();
}

function analyzeOptions() {
  const o = { period: state.period, lapseDays: state.lapseDays, includeStatuses: [...state.include], excludeStatuses: [...state.exclude] };
  if (state.asOf) o.asOf = state.asOf;
  return o;
}

// The page shows margin and discount rate in percent; the engine takes fractions. A margin of
// 100% is left out, so the engine reports revenue CLV as its default.
function predictOptions() {
  const o = { model: state.model, horizonMonths: state.horizonMonths, discountRate: state.discountPercent / 100,
    calibrationEnd: 'auto', top: FUTURE_TOP };
  if (state.marginPercent < 100) o.margin = state.marginPercent / 100;
  return o;
}

// Loads `files` into a fresh table and shows the result; on failure or cancel the previous
// analysis stays on screen.
async function run(files, { sample = false } = {}) {
  const { t } = state.i18n;
  setBusy(true);
  showError(null);
  try {
    const res = await request({ type: 'load', files, analyze: analyzeOptions() }, (p) => {
      $('progress').value = p.fraction;
      $('status').textContent = t('loading', { file: visible(p.file), index: p.index + 1, count: p.count });
    });
    state.files = files;
    state.attempt = null;
    state.sample = sample;
    engineStale = false;
    show(res);
  } catch (err) {
    if (err.cancelled) {
      $('status').textContent = t('cancelled');
    } else {
      engineStale = true;
      state.attempt = files;
      renderReading();
      const d = err.detail ?? {};
      showError(t('failed', { file: visible(d.file ?? '?'), message: err.message }) +
        (d.line ? t('failedWhere', { line: d.line, column: d.column ?? '?' }) : ''));
      $('status').textContent = '';
    }
  } finally {
    setBusy(false);
  }
}

async function reanalyze() {
  if (engineStale) return run(state.files, { sample: state.sample });
  // The fit under way is for the analysis being replaced: it goes, and starts again after
  // (if the re-analysis fails, the section says the fit stopped).
  if (stopModels()) {
    state.fitCancelled = true;
    setFitting(null);
  }
  setBusy(true);
  try {
    show(await request({ type: 'analyze', analyze: analyzeOptions() }));
  } catch (err) {
    if (!err.cancelled) showError(err.message);
  } finally {
    setBusy(false);
  }
}

// Only the models again: the analysis and everything else on the page stand (aria-busy
// stays false; data-models-ready changes when they show).
function repredict() {
  if (!state.report) return;
  if (engineStale) return run(state.files, { sample: state.sample });
  fitModels();
}

// Where the fit is, in the Future value section (which is busy while it runs, the page not).
function setFitting(p) {
  state.fitting = p;
  const i = state.i18n;
  $('future-section').setAttribute('aria-busy', p ? 'true' : 'false');
  $('future-section').classList.toggle('fitting', !!p);
  $('future-progress-box').hidden = !p;
  if (p) {
    $('future-progress').value = p.done;
    $('future-progress-text').textContent = p.step === 'start' ? i.t('fitStart')
      : i.t(`fitStep_${p.step}`, { model: p.model ? i.t(`model_${p.model}`) : '' });
  }
  $('future-cancelled').hidden = !state.fitCancelled || !!p;
  $('future-cancelled').textContent = i.t(state.future ? 'fitCancelledKept' : 'fitCancelled');
}

// The future and its per-customer columns (rows of customers(), or none when predict failed).
function setFuture(res) {
  state.future = res.future ?? null;
  state.futureError = res.futureError ?? null;
  const c = state.customers;
  if (!c) return;
  for (const col of PREDICTION_COLUMNS) delete c[col];
  const p = res.predictions;
  if (p && p.count === c.count) for (const col of PREDICTION_COLUMNS) if (p[col]) c[col] = p[col];
  if (PREDICTION_COLUMNS.includes(state.sort.col)) state.order = null;
  if (!(state.sort.col in c)) state.sort = { col: 'total_spend', dir: -1 };
}

function setBusy(busy) {
  state.busy = busy;
  $('progress-box').hidden = !busy;
  if (busy) {
    $('progress').value = 0;
    $('status').textContent = state.i18n.t('analysing');
  }
  document.body.setAttribute('aria-busy', busy ? 'true' : 'false');
}

// A refused file in words: its name, the engine's reason, and where.
function refusedText(r) {
  const { t } = state.i18n;
  const p = r.reason_params ?? {};
  return t('failed', { file: visible(r.name), message: r.reason }) +
    (p.line ? t('failedWhere', { line: p.line, column: p.column ?? '?' }) : '');
}

function showError(text) {
  $('error').hidden = !text;
  $('error').textContent = text ?? '';
}

function show(res) {
  state.report = res.report;
  if (res.files) state.fileReports = res.files;
  state.customers = res.customers;
  state.order = null;
  state.page = 0;
  // The models of the analysis replaced no longer hold: they come for this one, on its
  // histories (the worker's are the old analysis's until it has loaded these).
  stopModels();
  models.loaded = false;
  setFuture({ future: null, futureError: null });
  state.fitCancelled = false;
  render();
  const rows = state.fileReports.reduce((a, f) => a + f.rows_read, 0);
  const transcoded = state.fileReports.filter((f) => /detected|chosen/.test(f.format?.encoding ?? ''));
  state.readyText = state.i18n.t('ready', {
    files: state.fileReports.map((f) => visible(f.name)).join(', '),
    rows: state.i18n.integer(rows),
  }) + transcoded.map((f) => ' ' + state.i18n.t('encodingNote', { file: visible(f.name), encoding: f.format.encoding })).join('');
  $('status').textContent = state.readyText;
  // Files of the drop that could not be read: each said, the others analysed.
  const refused = state.report.data_quality?.refused ?? [];
  showError(refused.length ? refused.map(refusedText).join('\n') : null);
  document.body.dataset.ready = String(Date.now());
  fitModels(res.histories ?? null, res.historiesError ?? (res.histories ? null : { message: 'no histories' }));
}

// ---------------------------------------------------------------------------
// Rendering

function currencyOf(report) {
  const cur = report.breakdowns?.currency;
  if (!cur) return null;
  const stated = cur.map((c) => c.value).filter((v) => v);
  return stated.length === 1 ? stated[0] : null;
}

function render() {
  if (!state.report) return;
  $('sample-banner').hidden = !state.sample;
  renderCards();
  renderCharts();
  renderFlow();
  renderFuture();
  renderReading();
  renderMapping();
  renderStatuses();
  renderQuality();
  renderCustomers();
}

/** A KPI card: the value, and its formula, inputs (and reason when null) on hover or focus. */
function metricCard(id, m, cur, { prefix = 'metric', note = null } = {}) {
  const i = state.i18n;
  const nameId = `${prefix}-${id}`;
  const detailId = `${prefix}-${id}-detail`;
  const inputs = Object.entries(m.inputs ?? {});
  return el('div', {
    class: `card${m.value === null ? ' null' : ''}`, tabindex: 0, role: 'group',
    'aria-labelledby': nameId, 'aria-describedby': detailId,
    'data-metric': id, 'data-value': m.value ?? '',
  },
  el('div', { class: 'name', id: nameId, text: i.metricName(id) }),
  el('div', { class: 'value', text: i.value(m.value, m.unit, cur) }),
  note ? el('div', { class: 'note', text: note }) : null,
  el('div', { class: 'detail', id: detailId },
    m.value === null ? el('p', { class: 'reason', text: m.reason }) : null,
    el('p', {}, el('strong', { text: `${i.t('formula')}: ` }), i.formula(id, m.formula)),
    inputs.length ? el('ul', {}, inputs.map(([k, v]) =>
      el('li', { text: `${i.inputName(k)} = ${v === null ? '—' : typeof v === 'number' ? i.number(v) : v}` }))) : null));
}

function renderCards() {
  const cur = currencyOf(state.report);
  $('cards').replaceChildren(...Object.entries(state.report.metrics).map(([id, m]) => metricCard(id, m, cur)));
}

const charts = {};
function chart(id) {
  if (typeof echarts === 'undefined') return null;
  charts[id] ??= echarts.init($(id), null, { renderer: 'svg' });
  return charts[id];
}
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

// Rich-text tooltips: ECharts builds them without HTML, so no file text becomes markup.
const TOOLTIP = { trigger: 'item', renderMode: 'richText', confine: true };

function table(headers, rows, caption) {
  return el('table', {},
    caption ? el('caption', { text: caption }) : null,
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', { text: c }))))));
}

function renderCharts() {
  const i = state.i18n;
  const r = state.report;
  const cur = currencyOf(r);
  // Charts need orders: a customers table alone has none of these series.
  $('charts').hidden = !r.series || !r.period || !Object.keys(r.series).length;
  if ($('charts').hidden) return;

  // Series: one metric at a time, per period.
  const available = SERIES_IDS.filter((id) => r.series[id]);
  if (!available.includes(state.seriesMetric)) state.seriesMetric = available[0];
  $('series-metric').replaceChildren(...available.map((id) =>
    el('option', { value: id, selected: id === state.seriesMetric, text: i.metricName(id) })));
  const s = r.series[state.seriesMetric];
  const title = i.t('seriesTitle', { metric: i.metricName(state.seriesMetric), period: i.t(state.period) });
  $('series-title').textContent = title;
  const fmt = (v) => i.value(v, s.unit, cur);
  const seriesChart = chart('chart-series');
  $('chart-series').setAttribute('aria-label', title);
  seriesChart?.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 70, right: 20, top: 20, bottom: 40 },
    tooltip: { ...TOOLTIP, trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? i.t('noValue') : fmt(v)) },
    xAxis: { type: 'category', data: s.points.map((p) => (p.partial ? `${p.period}*` : p.period)) },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => (s.unit === 'ratio' ? i.percent(v) : i.number(v)) } },
    series: [{ type: state.seriesMetric === 'revenue' || state.seriesMetric === 'orders' ? 'bar' : 'line',
      name: i.metricName(state.seriesMetric), data: s.points.map((p) => p.value) }],
  }, true);
  $('series-table').replaceChildren(table([i.t('period'), i.metricName(state.seriesMetric)],
    s.points.map((p) => [p.partial ? `${p.period} (${i.t('partial')})` : p.period, p.value === null ? p.reason ?? i.t('noValue') : fmt(p.value)])));

  // RFM grid: customers by R and F score, from the per-customer columns.
  const c = state.customers;
  const grid = Array.from({ length: 5 }, () => new Array(5).fill(0));
  const gridRevenue = Array.from({ length: 5 }, () => new Array(5).fill(0));
  for (let k = 0; k < c.count; k++) {
    const R = c.r_score[k] - 1, F = c.f_score[k] - 1;
    if (R >= 0 && F >= 0) {
      grid[F][R]++;
      gridRevenue[F][R] += c.total_spend[k];
    }
  }
  const cells = [];
  let max = 1;
  for (let f = 0; f < 5; f++) for (let rr = 0; rr < 5; rr++) {
    cells.push([rr, f, grid[f][rr]]);
    max = Math.max(max, grid[f][rr]);
  }
  $('chart-rfm').setAttribute('aria-label', i.t('rfmAlt'));
  chart('chart-rfm')?.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 60, right: 20, top: 10, bottom: 60 },
    tooltip: { ...TOOLTIP, formatter: (p) => `R ${p.value[0] + 1}, F ${p.value[1] + 1}: ${i.integer(p.value[2])} ${i.t('customersCol')}, ${i.t('revenueCol')} ${i.money(gridRevenue[p.value[1]][p.value[0]], cur)}` },
    xAxis: { type: 'category', name: i.t('rScore'), nameLocation: 'middle', nameGap: 28, data: ['1', '2', '3', '4', '5'] },
    yAxis: { type: 'category', name: i.t('fScore'), nameLocation: 'middle', nameGap: 30, data: ['1', '2', '3', '4', '5'] },
    visualMap: { min: 0, max, show: false, inRange: { color: ['#eef4fb', '#1f5fa8'] } },
    series: [{ type: 'heatmap', data: cells, label: { show: true } }],
  }, true);
  const rfmRows = [];
  for (let f = 4; f >= 0; f--) for (let rr = 0; rr < 5; rr++)
    rfmRows.push([String(rr + 1), String(f + 1), i.integer(grid[f][rr]), i.money(gridRevenue[f][rr], cur)]);
  $('rfm-table').replaceChildren(table([i.t('rScore'), i.t('fScore'), i.t('customersCol'), i.t('revenueCol')], rfmRows));

  // Orders per customer: 1 … 9 and 10+.
  const counts = new Array(10).fill(0);
  for (let k = 0; k < c.count; k++) counts[Math.min(c.orders[k], 10) - 1]++;
  const labels = counts.map((_, k) => (k === 9 ? '10+' : String(k + 1)));
  $('chart-orders').setAttribute('aria-label', i.t('ordersDistAlt'));
  chart('chart-orders')?.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 60, right: 20, top: 10, bottom: 60 },
    tooltip: { ...TOOLTIP, formatter: (p) => `${p.name} ${i.t('ordersPerCustomer')}: ${i.integer(p.value)} ${i.t('customersCol')}` },
    xAxis: { type: 'category', name: i.t('ordersPerCustomer'), nameLocation: 'middle', nameGap: 28, data: labels },
    yAxis: { type: 'value' },
    series: [{ type: 'bar', data: counts }],
  }, true);
  $('orders-table').replaceChildren(table([i.t('ordersPerCustomer'), i.t('customersCol')], counts.map((n, k) => [labels[k], i.integer(n)])));

  // Segments with their customers and revenue.
  const segs = r.segments?.rfm?.segments ?? [];
  $('segments').replaceChildren(table([i.t('segment'), i.t('customersCol'), i.t('revenueCol')],
    segs.map((g) => [i.segmentName(g.segment), i.integer(g.customers), i.money(g.revenue, cur)])));
}

// A value that explains itself on hover or keyboard focus, like the KPI cards.
function explained(text, formula, inputs) {
  const i = state.i18n;
  return el('span', { class: 'explained', tabindex: 0 }, text,
    el('span', { class: 'detail', role: 'tooltip' },
      el('strong', { text: `${i.t('formula')}: ` }), formula,
      inputs ? el('ul', {}, Object.entries(inputs).map(([k, v]) =>
        el('li', { text: `${i.inputName(k)} = ${v === null ? '—' : typeof v === 'number' ? i.number(v) : v}` }))) : null));
}

function renderFlow() {
  const i = state.i18n;
  const r = state.report;
  const flow = r.flow;
  $('flow-section').hidden = !flow;
  if (!flow) return;
  // The engine's definitions are English; the page has them in both languages.
  $('flow-definition').textContent = i.lang === 'en' ? flow.definition ?? ''
    : i.t(flow.base === 'transactional' ? 'flowDefTransactional' : 'flowDefSubscription', { lapse: flow.lapse_days });
  $('as-of').value = state.asOf || r.period.as_of;
  $('as-of').min = r.period.first_date;
  $('lapse-days').value = flow.lapse_days ?? state.lapseDays;
  $('lapse-days').disabled = flow.base !== 'transactional';
  const series = flow.series ?? {};
  const points = (id) => series[id]?.points ?? [];
  const periods = (points('retention_rate').length ? points('retention_rate') : points('customers_end')).map((p) => p.period);
  const count = (id, k, fallback) => {
    const p = points(id)[k];
    if (p && p.value !== null && p.value !== undefined) return p.value;
    return fallback?.(k) ?? null;
  };
  // Counts per period: from their own series, else from the rates' inputs.
  const inRet = (key) => (k) => points('retention_rate')[k]?.inputs?.[key] ?? null;
  const inChurn = (key) => (k) => points('churn_rate')[k]?.inputs?.[key] ?? null;
  const rows = periods.map((label, k) => ({
    label,
    warm_up: (points('retention_rate')[k] ?? points('customers_end')[k])?.warm_up,
    partial: (points('retention_rate')[k] ?? points('customers_end')[k])?.partial,
    S: count('customers_start', k, inRet('customers_start')),
    E: count('customers_end', k, inRet('customers_end')),
    N: count('new_customers', k, inRet('new_customers')),
    newIn: count('new_in_base', k, inRet('new_in_base')),
    re: count('reactivated', k, inRet('reactivated')),
    lost: count('lost', k, inChurn('lost')),
    retained: count('retained', k, inRet('retained')),
    net: count('net_customer_additions', k),
    ret: points('retention_rate')[k],
    churn: points('churn_rate')[k],
  }));
  const label = (row) => `${row.label}${row.partial ? '*' : ''}${row.warm_up ? '°' : ''}`;
  const period = i.t(state.period);
  $('flow-chart-title').textContent = i.t('flowChartTitle', { period });
  $('chart-flow').setAttribute('aria-label', i.t('flowChartTitle', { period }));
  chart('chart-flow')?.setOption({
    aria: { enabled: true },
    animation: false,
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    tooltip: { ...TOOLTIP, trigger: 'axis' },
    xAxis: { type: 'category', data: rows.map(label) },
    yAxis: { type: 'value' },
    series: [
      { name: i.t('newInBase'), type: 'bar', stack: 'flow', data: rows.map((x) => x.newIn) },
      { name: i.t('reactivatedCol'), type: 'bar', stack: 'flow', data: rows.map((x) => x.re) },
      { name: i.t('lostCol'), type: 'bar', stack: 'flow', data: rows.map((x) => (x.lost === null ? null : -x.lost)) },
      { name: i.t('netCol'), type: 'line', data: rows.map((x) => x.net ?? (x.E !== null && x.S !== null ? x.E - x.S : null)) },
    ],
  }, true);
  $('rates-chart-title').textContent = i.t('ratesChartTitle', { period });
  $('chart-rates').setAttribute('aria-label', i.t('ratesChartTitle', { period }));
  chart('chart-rates')?.setOption({
    aria: { enabled: true },
    animation: false,
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    tooltip: { ...TOOLTIP, trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? i.t('noValue') : i.percent(v)) },
    xAxis: { type: 'category', data: rows.map(label) },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => i.percent(v) } },
    series: [
      { name: i.metricName('retention_rate'), type: 'line', data: rows.map((x) => x.ret?.value ?? null) },
      { name: i.metricName('churn_rate'), type: 'line', data: rows.map((x) => x.churn?.value ?? null) },
    ],
  }, true);
  const num = (v) => (v === null || v === undefined ? '—' : i.integer(v));
  const rate = (p, id) => (p ? explained(p.value === null ? (p.reason ?? i.t('noValue')) : i.percent(p.value),
    i.formula(id, series[id]?.formula ?? ''), p.inputs) : '—');
  $('flow-table').replaceChildren(el('table', {},
    el('thead', {}, el('tr', {}, [i.t('period'), i.t('startCol'), i.t('newCol'), i.t('newInBase'), i.t('reactivatedCol'),
      i.t('lostCol'), i.t('retainedCol'), i.t('endCol'), i.metricName('retention_rate'), i.metricName('churn_rate')]
      .map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows.map((x) => el('tr', { 'data-period': x.label },
      el('th', { scope: 'row', title: x.warm_up ? i.t('warmUp') : null, text: label(x) }),
      ...[x.S, x.N, x.newIn, x.re, x.lost, x.retained, x.E].map((v) => el('td', { text: num(v) })),
      el('td', { class: 'rate' }, rate(x.ret, 'retention_rate')),
      el('td', { class: 'rate' }, rate(x.churn, 'churn_rate'))))),
    el('caption', { text: `* ${i.t('partial')} · ° ${i.t('warmUp')}` })));

  renderCohorts();
  // Lifecycle stages at as_of.
  const stages = flow.lifecycle?.stages ?? [];
  $('chart-lifecycle').setAttribute('aria-label', i.t('lifecycleTitle'));
  chart('chart-lifecycle')?.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 100, right: 30, top: 10, bottom: 30 },
    tooltip: { ...TOOLTIP },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: stages.map((x) => i.stageName(x.stage)) },
    series: [{ type: 'bar', data: stages.map((x) => x.customers), label: { show: true, position: 'right' } }],
  }, true);
  $('lifecycle-table').replaceChildren(table([i.t('stage'), i.t('customersCol')],
    stages.map((x) => [i.stageName(x.stage), i.integer(x.customers)])));
  $('lifecycle-rules').textContent = i.lang === 'en' ? flow.lifecycle?.rules ?? '' : i.t('lifecycleRules');
}

function renderCohorts() {
  const i = state.i18n;
  const coh = state.report.cohorts ?? {};
  const quarter = state.period !== 'month' && coh.acquisition_quarter;
  const c = quarter ? coh.acquisition_quarter : coh.acquisition;
  if (!c) return;
  const labels = c.months ?? c.quarters ?? [];
  const view = state.cohortView;
  const matrix = view === 'share' ? c.share : c.revenue_per_customer;
  if (!matrix) return;
  const cur = currencyOf(state.report);
  const fmt = (v) => (v === null || v === undefined ? '' : view === 'share' ? i.percent(v) : i.money(v, cur));
  const cells = [];
  let max = 0;
  matrix.forEach((row, a) => row.forEach((v, k) => {
    if (v === null || v === undefined) return;
    if (k > 0 || view === 'revenue') max = Math.max(max, v);
    cells.push([k, a, v]);
  }));
  const width = Math.max(0, ...matrix.map((row) => row.length));
  $('chart-cohort').setAttribute('aria-label', `${i.t('cohortTitle')}: ${view === 'share' ? i.t('cohortShare') : i.t('cohortRevenue')}`);
  chart('chart-cohort')?.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 70, right: 20, top: 10, bottom: 50 },
    tooltip: { ...TOOLTIP, formatter: (p) => `${labels[p.value[1]]} +${p.value[0]}: ${fmt(p.value[2])}` },
    xAxis: { type: 'category', name: quarter ? i.t('cohortAxisQuarter') : i.t('cohortAxis'), nameLocation: 'middle', nameGap: 30,
      data: Array.from({ length: width }, (_, k) => String(k)) },
    yAxis: { type: 'category', inverse: true, data: labels },
    visualMap: { min: 0, max: max || 1, show: false, inRange: { color: ['#eef4fb', '#1f5fa8'] } },
    series: [{ type: 'heatmap', data: cells }],
  }, true);
  $('cohort-table').replaceChildren(table([i.t('cohortLabel'), i.t('sizeCol'), ...Array.from({ length: width }, (_, k) => `+${k}`)],
    matrix.map((row, a) => [labels[a], i.integer(c.size[a]), ...Array.from({ length: width }, (_, k) => fmt(row[k]))])));
}

// ---------------------------------------------------------------------------
// Future value: the models' predictions (predict()), their verdict and the holdout check.

/** A histogram as bars, with its data as a table; `range` labels a bin [lo, hi). */
function histogramChart(chartId, tableId, hist, range, axisLabel, alt, valueHeader) {
  const i = state.i18n;
  const n = hist?.counts?.length ?? 0;
  // No values (a model that could not be fitted): no chart; the cards say why.
  $(chartId).closest('figure').hidden = n === 0;
  if (n === 0) return;
  const labels = Array.from({ length: n }, (_, k) => range(hist.edges[k], hist.edges[k + 1], k === n - 1));
  $(chartId).setAttribute('aria-label', alt);
  chart(chartId)?.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 60, right: 20, top: 34, bottom: 62 },
    tooltip: { ...TOOLTIP, formatter: (p) => `${labels[p.dataIndex]}: ${i.integer(p.value)} ${i.t('customersCol')}` },
    xAxis: { type: 'category', name: valueHeader, nameLocation: 'middle', nameGap: 44, data: labels,
      axisLabel: { formatter: (v, k) => axisLabel(hist.edges[k], k === n - 1), hideOverlap: true } },
    yAxis: { type: 'value', name: i.t('customersCol'), nameTextStyle: { align: 'left' } },
    series: [{ type: 'bar', data: hist?.counts ?? [], barCategoryGap: '8%' }],
  }, true);
  $(tableId).replaceChildren(table([valueHeader, i.t('customersCol')], labels.map((l, k) => [l, i.integer(hist.counts[k])])));
}

/** The ranked customers of the future (top by CLV, or by value at risk). */
function futureRows(rows, caption, cur) {
  const i = state.i18n;
  const f = state.future;
  // The engine's formulas are of the totals and means; a column holds one customer's value.
  const head = (id) => el('th', { scope: 'col' },
    f.metrics[id] ? explained(i.t(`col_${id}`), i.t(`perCustomer_${id}`)) : i.t(`col_${id}`));
  const num = (v, fmt) => (v === null || v === undefined ? '—' : fmt(v));
  return el('table', { class: 'customers' },
    el('caption', { text: caption }),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col', text: '#' }), head('customer_id'), head('clv_predicted'), head('p_alive'),
      head('expected_purchases'), head('expected_order_value'), head('value_at_risk'), head('churn_risk'),
      head('orders'), head('total_spend'), head('last_purchase'))),
    el('tbody', {}, rows.map((r, k) => el('tr', { 'data-customer': r.customer_id },
      el('td', { text: i.integer(k + 1) }),
      el('th', { scope: 'row', text: visible(r.customer_id) }),
      el('td', { 'data-value': r.clv_predicted ?? '', text: num(r.clv_predicted, (v) => i.money(v, cur)) }),
      el('td', { text: num(r.p_alive, i.percent) }),
      el('td', { text: num(r.expected_purchases, i.number) }),
      el('td', { text: num(r.expected_order_value, (v) => i.money(v, cur)) }),
      el('td', { 'data-value': r.value_at_risk ?? '', text: num(r.value_at_risk, (v) => i.money(v, cur)) }),
      el('td', { text: num(r.churn_risk, i.integer) }),
      el('td', { text: num(r.orders, i.integer) }),
      el('td', { text: num(r.total_spend, (v) => i.money(v, cur)) }),
      el('td', { text: r.last_purchase ? i.date(r.last_purchase) : '—' })))));
}

/** A fitted model's parameters, log-likelihood and convergence, as a table. */
function fitTable(fit, caption, testId) {
  const i = state.i18n;
  const params = Object.entries(fit.params ?? {});
  const rows = params.map(([k, v]) => el('tr', { 'data-param': k, 'data-value': v ?? '' },
    el('th', { scope: 'row', text: k }),
    el('td', { text: v === null ? '—' : i.sig(v) }),
    el('td', { text: fit.standard_errors?.[k] === null || fit.standard_errors?.[k] === undefined ? '—' : i.sig(fit.standard_errors[k]) })));
  const facts = [
    [i.t('logLikelihood'), fit.log_likelihood === null || fit.log_likelihood === undefined ? '—' : i.number(fit.log_likelihood)],
    [i.t('converged'), fit.converged ? i.t('yes') : i.t('no')],
    [i.t('iterations'), `${i.integer(fit.iterations ?? 0)} (${i.t('evaluations')}: ${i.integer(fit.evaluations ?? 0)}, ${i.t('starts')}: ${i.integer(fit.starts ?? 0)})`],
  ];
  if (fit.customers !== undefined) facts.push([i.t('customersCol'), i.integer(fit.customers)]);
  if (fit.distinct_histories !== undefined) facts.push([i.t('distinctHistories'), i.integer(fit.distinct_histories)]);
  return el('table', { class: 'fit', 'data-fit': testId },
    el('caption', { text: caption }),
    el('thead', {}, el('tr', {}, [i.t('parameter'), i.t('estimate'), i.t('standardError')].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows, facts.map(([k, v]) => el('tr', {}, el('th', { scope: 'row', text: k }), el('td', { colspan: 2, text: v })))));
}

function renderFuture() {
  const i = state.i18n;
  const f = state.future;
  $('future-section').hidden = !state.report;
  if (!state.report) return;
  $('future-model').value = state.model;
  $('future-horizon').value = state.horizonMonths;
  $('future-margin').value = state.marginPercent;
  $('future-discount').value = state.discountPercent;
  setFitting(state.fitting);
  const err = state.futureError;
  $('future-error').hidden = !err;
  $('future-error').textContent = err ? i.t('futureFailed', { message: err.message }) : '';
  $('future-body').hidden = !f;
  if (!f) return;
  const cur = currencyOf(state.report);
  const h = f.holdout ?? { done: false };
  const modelName = i.t(`model_${f.model}`);
  const horizon = f.options.horizon_months;

  // Which model, and whether its fit holds (future.verdict: the fit behind the predictions,
  // after the holdout check when there is one).
  const verdict = f.verdict ?? (h.done ? h.verdict : 'none');
  const fits = verdict !== 'does_not_fit';
  const spend = f.spend_model;
  const o = f.options;
  const fitOpen = $('future-fit')?.open;  // kept open across a re-render (language, options)
  $('future-verdict').className = `verdict verdict-${verdict}`;
  $('future-verdict').dataset.model = f.model;
  $('future-verdict').dataset.verdict = verdict;
  $('future-verdict').replaceChildren(...[
    el('p', { class: 'verdict-head' },
      el('span', { id: 'future-model-name' }, `${i.t('modelUsed')}: `, el('strong', { text: modelName })),
      el('span', { class: 'verdict-word' }, `${i.t('verdict')}: `, el('strong', { text: i.t(`verdict_${verdict}`) }))),
    el('p', { class: 'verdict-reason', text: f.verdict_reason ?? (h.done ? h.verdict_reason : h.reason ?? '') }),
    // A suspect or failed fit is said beside the verdict: the holdout check tests the
    // calibration fit, the predictions come from the fit on all the data.
    // (model_does_not_fit repeats the verdict's reason, shown just above.)
    ...[(f.warnings ?? []).filter((w) => w.code !== 'model_does_not_fit')].map((ws) => (ws.length
      ? el('ul', { id: 'future-warnings', class: 'warn' }, ws.map((w) => el('li', { text: w.message }))) : null)),
    el('details', { id: 'future-fit', open: fitOpen }, el('summary', { text: i.t('modelFit') }),
      el('div', { class: 'fit-tables' },
        fitTable(f.fit, i.t('fitCaption', { model: modelName }), 'model'),
        spend?.params ? fitTable(spend, i.t('spendFitCaption'), 'spend') : null,
        h.done && h.fit ? fitTable(h.fit, i.t('holdoutFitCaption', { date: i.date(h.calibration_end) }), 'holdout') : null),
      spend && !spend.ok && spend.reason ? el('p', { class: 'reason', text: `${i.t('spendModel')}: ${spend.reason}` }) : null,
      el('ul', { class: 'options-used' },
        el('li', { text: `${i.t('timeUnit')}: ${i.t(`unit_${f.time_unit}`)}` }),
        el('li', { text: `${i.t('futureHorizon')}: ${i.integer(horizon)}` }),
        el('li', { text: `${i.t('margin')}: ${i.percent(o.margin)} (${o.margin_source})` }),
        el('li', { text: `${i.t('futureDiscount')}: ${i.number(o.monthly_discount_rate * 100)}` }),
        el('li', { text: `${i.t('calibrationEnd')}: ${o.calibration_end ? i.date(o.calibration_end) : '—'} (${o.calibration_end_source})` }),
        f.as_of ? el('li', { text: `${i.t('asOf')}: ${i.date(f.as_of)}` }) : null),
      (f.fit.warnings ?? []).length ? el('ul', {}, f.fit.warnings.map((w) => el('li', { text: w }))) : null),
  ].filter(Boolean));  // replaceChildren would write a null as the text "null"

  // A model that does not fit: its numbers are not predictions, shown only when asked.
  for (const id of ['future-model-numbers', 'future-model-lists']) {
    const d = $(id);
    d.dataset.fits = fits ? 'yes' : 'no';
    d.querySelector('summary').textContent = fits ? '' : i.t('doesNotFitShow');
    if (fits) d.open = true;
    else if (d.dataset.reason !== f.verdict_reason) d.open = false;  // closed for each new result
    d.dataset.reason = f.verdict_reason ?? '';
  }

  // The cards: the model's metrics, and the historical clv_simple beside clv_predicted.
  const notes = {
    clv_predicted: i.t('meanNextMonths', { n: horizon }),
    expected_purchases: i.t('totalNextMonths', { n: horizon }),
    clv_simple: i.t('fromHistory'),
    value_at_risk: i.t('totalAllCustomers'),
    expected_order_value: i.t('populationMean'),
  };
  $('future-cards').replaceChildren(...FUTURE_CARDS.map((id) => {
    const m = id === 'clv_simple' ? state.report.metrics.clv_simple : f.metrics[id];
    return m ? metricCard(id, m, cur, { prefix: 'future', note: notes[id] }) : null;
  }).filter(Boolean));

  // Distributions.
  const money = (v) => i.money(v, cur);
  const compactMoney = (v) => i.compact(v);
  const clvTitle = i.t('clvDistTitle', { n: horizon });
  $('future-clv-title').textContent = clvTitle;
  histogramChart('chart-future-clv', 'future-clv-table', f.distributions.clv_predicted,
    (lo, hi, last) => (last ? `≥ ${money(lo)}` : `${money(lo)} – ${money(hi)}`),
    (lo, last) => (last ? `≥${compactMoney(lo)}` : compactMoney(lo)),
    i.t('clvDistAlt', { n: horizon }), i.t('col_clv_predicted'));
  histogramChart('chart-future-palive', 'future-palive-table', f.distributions.p_alive,
    (lo, hi) => `${i.percent(lo)} – ${i.percent(hi)}`, (lo) => i.percent(lo),
    i.t('pAliveDistAlt'), i.t('col_p_alive'));

  // The holdout check: fitted up to the calibration end, predicted after it.
  // Without a calibration fit there is nothing to draw: the verdict banner says why.
  const calibrated = h.done && h.over_time?.dates?.length > 0;
  $('chart-future-time').closest('.two').hidden = !calibrated;
  if (calibrated) {
    const pct = (v) => (v === null || v === undefined ? '—' : i.percent(v));
    const num = (v) => (v === null || v === undefined ? '—' : i.number(v));
    $('future-holdout').replaceChildren(
      i.t('holdoutIntro', { start: i.date(h.calibration_end), end: i.date(h.holdout_end), customers: i.integer(h.customers),
        repeat: i.integer(h.calibration_repeat_buyers) }), ' ',
      el('span', { class: 'holdout-facts' },
        `${i.t('holdoutActual')}: `, el('strong', { 'data-value': h.actual, text: i.number(h.actual) }), ' · ',
        `${i.t('holdoutPredicted')}: `, el('strong', { 'data-value': h.predicted ?? '', text: num(h.predicted) }), ' · ',
        `${i.t('mae')}: `, explained(num(h.mae), i.t('maeFormula'), { customers: h.customers }), ' · ',
        `${i.t('bias')}: `, explained(pct(h.bias), i.t('biasFormula'), { predicted: h.predicted, actual: h.actual })));
    const t = h.over_time;
    const calDate = t.dates.find((d) => d >= h.calibration_end) ?? t.dates[t.dates.length - 1];
    const timeAlt = i.t('overTimeAlt', { date: h.calibration_end });
    $('chart-future-time').setAttribute('aria-label', timeAlt);
    chart('chart-future-time')?.setOption({
      aria: { enabled: true },
      animation: false,
      legend: { top: 0 },
      grid: { left: 60, right: 24, top: 40, bottom: 40 },
      tooltip: { ...TOOLTIP, trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? i.t('noValue') : i.number(v)) },
      xAxis: { type: 'category', data: t.dates, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value' },
      series: [
        { name: i.t('actual'), type: 'line', showSymbol: false, data: t.cumulative_actual,
          markLine: { silent: true, symbol: 'none', lineStyle: { color: '#5b6475', type: 'dashed' },
            label: { formatter: i.t('calibrationEndMark'), position: 'insideEndTop', color: '#1d2330' },
            data: calDate ? [{ xAxis: calDate }] : [] } },
        { name: i.t('predicted'), type: 'line', showSymbol: false, lineStyle: { type: 'dashed' }, data: t.cumulative_predicted },
      ],
    }, true);
    $('future-time-table').replaceChildren(table([i.t('date'), i.t('actual'), i.t('predicted')],
      t.dates.map((d, k) => [d, num(t.cumulative_actual[k]), num(t.cumulative_predicted[k])])));
    const b = h.by_frequency;
    $('chart-future-frequency').setAttribute('aria-label', i.t('byFrequencyAlt'));
    chart('chart-future-frequency')?.setOption({
      aria: { enabled: true },
      animation: false,
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 50 },
      tooltip: { ...TOOLTIP, trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? i.t('noValue') : i.number(v)) },
      xAxis: { type: 'category', name: i.t('calibrationFrequency'), nameLocation: 'middle', nameGap: 30,
        data: b.map((x) => x.calibration_frequency) },
      yAxis: { type: 'value' },
      series: [
        { name: i.t('actual'), type: 'bar', data: b.map((x) => x.actual_mean) },
        { name: i.t('predicted'), type: 'bar', data: b.map((x) => x.predicted_mean) },
      ],
    }, true);
    $('future-frequency-table').replaceChildren(table([i.t('calibrationFrequency'), i.t('customersCol'), i.t('actual'), i.t('predicted')],
      b.map((x) => [x.calibration_frequency, i.integer(x.customers), i.number(x.actual_mean), i.number(x.predicted_mean)])));
  } else {
    $('future-holdout').textContent = i.t('noHoldout', { reason: h.done ? h.verdict_reason : h.reason ?? '' });
  }

  // The ranked lists.
  $('future-top').replaceChildren(f.top_customers.length
    ? futureRows(f.top_customers, i.t('topCustomersCaption', { n: horizon }), cur) : el('p', { text: i.t('noRows') }));
  $('future-risk').replaceChildren(f.value_at_risk.length
    ? futureRows(f.value_at_risk, i.t('valueAtRiskCaption'), cur) : el('p', { text: i.t('noRows') }));

  // The churn risk score: its parts, and how customers spread over it.
  const risk = f.churn_risk;
  $('future-churn-parts').replaceChildren(risk ? el('div', {},
    el('p', {}, el('strong', { text: `${i.t('formula')}: ` }), i.lang === 'en' ? risk.formula : i.t('churnRiskFormula')),
    el('table', { class: 'parts' },
      el('thead', {}, el('tr', {}, [i.t('part'), i.t('weight'), i.t('formula')].map((x) => el('th', { scope: 'col', text: x })))),
      el('tbody', {}, risk.parts.map((p) => el('tr', { 'data-part': p.id, 'data-weight': p.weight },
        el('th', { scope: 'row', text: i.t(`part_${p.id}`) }),
        el('td', { text: i.percent(p.weight) }),
        el('td', {}, i.partFormula(p.id, p.formula, f.model), p.reason ? el('div', { class: 'reason', text: p.reason }) : null))))))
    : el('p', { text: i.t('noChurnRisk') }));
  if (!f.distributions.churn_risk) $('chart-future-churn').closest('figure').hidden = true;
  else
    histogramChart('chart-future-churn', 'future-churn-table', f.distributions.churn_risk,
      // Scores are whole numbers: [0, 20) is 0–19, and the last bin holds 100.
      (lo, hi, last) => `${i.integer(lo)}–${i.integer(last ? hi : hi - 1)}`,
      (lo, last) => `${i.integer(lo)}–${i.integer(last ? 100 : lo + 19)}`, i.t('churnRiskAlt'), i.t('col_churn_risk'));

  // A chart first drawn while its box was hidden (no holdout, an error) has no size yet.
  for (const id of ['chart-future-clv', 'chart-future-palive', 'chart-future-time', 'chart-future-frequency', 'chart-future-churn'])
    charts[id]?.resize();
}

const ENCODINGS = ['', 'utf-8', 'gb18030', 'utf-16le', 'utf-16be', 'windows-1252', 'latin1'];

// Per file: what the reader used (encoding, delimiter, header) with a preview of the decoded
// lines, and the reading options the bad-input matrix lets the user choose.
function renderReading() {
  const i = state.i18n;
  const files = state.attempt ?? state.files;
  const reportOf = (name) => (state.attempt ? null : state.fileReports.find((f) => f.name === name));
  const select = (id, value, options) => el('select', { id },
    options.map(([v, label]) => el('option', { value: v, selected: (value ?? '') === v, text: label })));
  const field = (id, label, control) => el('div', { class: 'opt' }, el('label', { for: id, text: label }), control);
  const blocks = files.map((f, fi) => {
    const o = f.options ?? {};
    const rep = reportOf(f.name);
    const fmt = rep?.format;
    // Which table the file went to, and why (its header's classification, or the user's choice).
    const cl = rep?.classification;
    const tableName = { orders: 'tableOrders', customers: 'tableCustomers', btyd_summary: 'tableBtyd' }[rep?.table];
    const tableNote = tableName ? `${i.t('table')}: ${i.t(tableName)}` +
      (cl?.score !== null && cl?.score !== undefined ? ` (${cl.reason})` : '') : null;
    const id = (k) => `opt-${fi}-${k}`;
    const used = fmt ? [
      ...(tableNote ? [tableNote] : []),
      `${i.t('encoding')}: ${fmt.encoding}${fmt.encoding_source ? ` (${fmt.encoding_source})` : ''}`,
      `${i.t('delimiter')}: ${fmt.delimiter} (${fmt.delimiter_source})`,
      `${i.t('headerLine')}: ${fmt.header ? fmt.header_source : '—'}`,
    ] : [];
    const refusal = state.attempt ? null : (state.report?.data_quality?.refused ?? []).find((r) => r.name === f.name);
    return el('fieldset', { class: 'file-block reading', 'data-file': fi },
      el('legend', { text: visible(f.name) }),
      refusal ? el('p', { class: 'error', 'data-refused': '', text: refusedText(refusal) }) : null,
      used.length ? el('p', { class: 'used', text: `${i.t('used')}: ${used.join(' · ')}` }) : null,
      fmt?.preview?.length ? el('details', {}, el('summary', { text: i.t('preview') }),
        el('pre', { class: 'preview', text: fmt.preview.map(visible).join('\n') })) : null,
      el('div', { class: 'opts' },
        field(id('table'), i.t('table'), select(id('table'), o.table ?? (rep?.table === 'customers' ? 'customers' : ''),
          [['', i.t('tableAuto')], ['orders', i.t('tableOrders')], ['customers', i.t('tableCustomers')]])),
        field(id('encoding'), i.t('encoding'), select(id('encoding'), o.encoding, ENCODINGS.map((e) => [e, e || i.t('encAuto')]))),
        el('div', { class: 'opt' }, el('input', { type: 'checkbox', id: id('invalid'), checked: o.invalid === 'replace' }),
          el('label', { for: id('invalid'), text: i.t('replaceInvalid') })),
        field(id('quotes'), i.t('quotes'), select(id('quotes'), o.quotes ?? 'strict', [['strict', i.t('quotesStrict')], ['lenient', i.t('quotesLenient')]])),
        field(id('escape'), i.t('escape'), select(id('escape'), o.escape ?? 'double', [['double', i.t('escapeDouble')], ['backslash', i.t('escapeBackslash')]])),
        field(id('headerLine'), i.t('headerLine'), el('input', { type: 'number', min: 1, id: id('headerLine'), value: o.headerLine ?? '', placeholder: i.t('headerAuto') })),
        field(id('decimalMark'), i.t('decimalMark'), select(id('decimalMark'), o.decimalMark, [['', i.t('auto')], ['dot', '1,234.50'], ['comma', '1.234,50']])),
        field(id('dateOrder'), i.t('dateOrder'), select(id('dateOrder'), o.dateOrder, [['', i.t('auto')], ['dmy', 'dd/mm/yyyy'], ['mdy', 'mm/dd/yyyy']]))));
  });
  const again = el('button', { type: 'button', id: 'read-again', onclick: () => {
    const next = files.map((f, fi) => {
      const v = (k) => $(`opt-${fi}-${k}`);
      const options = { ...(f.options ?? {}) };
      const set = (k, value) => {
        if (value === '' || value === undefined || value === null) delete options[k];
        else options[k] = value;
      };
      set('table', v('table').value);
      set('encoding', v('encoding').value);
      set('invalid', v('invalid').checked ? 'replace' : '');
      set('quotes', v('quotes').value === 'strict' ? '' : v('quotes').value);
      set('escape', v('escape').value === 'double' ? '' : v('escape').value);
      set('headerLine', v('headerLine').value === '' ? '' : Number(v('headerLine').value));
      set('decimalMark', v('decimalMark').value);
      set('dateOrder', v('dateOrder').value);
      return { ...f, options };
    });
    run(next, { sample: state.sample && !state.attempt });
  } }, i.t('readAgain'));
  $('reading').replaceChildren(...blocks, files.length ? again : '');
}

function renderMapping() {
  const i = state.i18n;
  const blocks = state.fileReports.map((f, fi) => {
    const columns = f.format?.columns ?? [];
    const chosen = new Map((f.mapping ?? []).map((m) => [m.field, m]));
    const rows = ORDER_FIELDS.map((field) => {
      const m = chosen.get(field);
      const id = `map-${fi}-${field}`;
      const select = el('select', { id, 'data-file': fi, 'data-field': field, onchange: onMappingChange },
        el('option', { value: '', text: i.t('none'), selected: !m }),
        columns.map((name, k) => el('option', { value: String(k + 1), selected: m && m.index === k + 1, text: visible(name) })));
      return el('tr', {},
        el('th', { scope: 'row' }, el('label', { for: id, text: field })),
        el('td', {}, select),
        el('td', { text: m ? m.reason : '' }));
    });
    return el('div', { class: 'file-block' },
      el('table', {}, el('caption', { text: visible(f.name) }),
        el('thead', {}, el('tr', {}, [i.t('field'), i.t('column'), i.t('why')].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, rows)));
  });
  $('mapping').replaceChildren(...blocks);
}

function onMappingChange(ev) {
  const fi = Number(ev.target.dataset.file);
  const field = ev.target.dataset.field;
  const files = state.files.map((f, k) => {
    if (k !== fi) return f;
    const mapping = { ...(f.options?.mapping ?? {}) };
    mapping[field] = ev.target.value === '' ? null : Number(ev.target.value);
    return { ...f, options: { ...f.options, mapping } };
  });
  run(files, { sample: state.sample });
}

function renderStatuses() {
  const i = state.i18n;
  const statuses = state.report.data_quality.tables.orders?.orders?.statuses ?? [];
  if (!statuses.length) {
    $('statuses').replaceChildren(el('p', { text: i.t('noStatuses') }));
    return;
  }
  const rows = statuses.map((s, k) => {
    const id = `status-${k}`;
    const box = el('input', { type: 'checkbox', id, checked: !s.excluded, 'data-status': s.status,
      onchange: (ev) => {
        const name = ev.target.dataset.status;
        state.include.delete(name);
        state.exclude.delete(name);
        (ev.target.checked ? state.include : state.exclude).add(name);
        reanalyze();
      } });
    return el('tr', {},
      el('th', { scope: 'row', text: visible(s.status) }),
      el('td', { text: i.integer(s.orders) }),
      el('td', {}, box, el('label', { for: id, class: 'visually-hidden', text: `${i.t('counted')}: ${visible(s.status)}` })),
      el('td', { text: s.in_status_table ? i.t('inTable') : i.t('unknownStatus') }));
  });
  $('statuses').replaceChildren(el('table', {},
    el('thead', {}, el('tr', {}, [i.t('status'), i.t('count'), i.t('counted'), ''].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows)));
}

function renderQuality() {
  const i = state.i18n;
  const tables = state.report.data_quality.tables;
  const dq = tables.orders;
  const tally = (list) => list.map((x) => [x.reason, i.integer(x.count), x.lines.join(', ')]);
  const files = state.fileReports.map((f) => el('div', { class: 'file-block' },
    el('h3', { text: visible(f.name) }),
    table([i.t('rowsRead'), i.t('rowsUsed'), i.t('rowsRejected'), i.t('rowsSkipped')],
      [[f.rows_read, f.rows_used, f.rows_rejected, f.rows_skipped].map((n) => i.integer(n))]),
    f.rejected.length ? table([i.t('reason'), i.t('count'), i.t('exampleLines')], tally(f.rejected), i.t('rowsRejected')) : null,
    f.skipped.length ? table([i.t('reason'), i.t('count'), i.t('exampleLines')], tally(f.skipped), i.t('rowsSkipped')) : null,
    f.duplicate_lines?.count ? el('p', { text: `${i.t('duplicates')}: ${i.integer(f.duplicate_lines.count)} (${f.duplicate_lines.lines.join(', ')})` }) : null,
    (f.warnings ?? []).length ? el('ul', {}, f.warnings.map((w) => el('li', { text: w.message }))) : null));
  const o = dq?.files?.length ? dq.orders : null;
  const guest = o?.purchases ? o.guest_purchases / o.purchases : 0;
  const warnings = Object.values(tables).flatMap((t) => t.warnings ?? []);
  $('quality').replaceChildren(
    o ? el('p', { id: 'guest-share', text: i.t('guestShare', { share: i.percent(guest), n: i.integer(o.guest_purchases) }) }) : '',
    ...files,
    warnings.length ? el('div', {}, el('h3', { text: i.t('warnings') }),
      el('ul', {}, warnings.map((w) => el('li', { text: w.message })))) : '');
}

function renderCustomers() {
  const i = state.i18n;
  const c = state.customers;
  const cur = currencyOf(state.report);
  if (!state.order) {
    const { col, dir } = state.sort;
    const v = c[col];
    const idx = Array.from({ length: c.count }, (_, k) => k);
    // NaN (a prediction not defined for the customer) sorts last either way.
    idx.sort((a, b) => {
      const x = v[a], y = v[b];
      if (x !== x || y !== y) return x !== x && y !== y ? a - b : x !== x ? 1 : -1;
      return x < y ? -dir : x > y ? dir : a - b;
    });
    state.order = idx;
  }
  const pages = Math.max(1, Math.ceil(c.count / PAGE_SIZE));
  state.page = Math.min(state.page, pages - 1);
  const cell = (col, k) => {
    const v = c[col][k];
    if (col === 'customer_id') return visible(v);
    if (col === 'first_purchase' || col === 'last_purchase') return i.date(v);
    if (col === 'segment') return i.segmentName(v);
    if (col === 'lifecycle') return v ? i.stageName(v) : '';
    if (col === 'total_spend' || col === 'mean_order_value') return i.money(v, cur);
    if (col === 'cohort') return v;
    if (typeof v === 'number' && Number.isNaN(v)) return '—';
    if (col === 'clv_predicted') return i.money(v, cur);
    if (col === 'p_alive') return i.percent(v);
    if (col === 'expected_purchases') return i.number(v);
    return i.integer(v);
  };
  const columns = TABLE_COLUMNS.filter((col) => c[col] !== undefined);
  const head = columns.map((col) => {
    const sorted = state.sort.col === col;
    return el('th', { scope: 'col', 'aria-sort': sorted ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
      el('button', { type: 'button', class: 'sort', title: i.t('sortBy', { col: i.t(`col_${col}`) }),
        onclick: () => {
          state.sort = { col, dir: sorted ? -state.sort.dir : col === 'customer_id' ? 1 : -1 };
          state.order = null;
          state.page = 0;
          renderCustomers();
        } }, i.t(`col_${col}`), sorted ? (state.sort.dir > 0 ? ' ▲' : ' ▼') : ''));
  });
  const rows = state.order.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE)
    .map((k) => el('tr', {}, columns.map((col) => el('td', { text: cell(col, k) }))));
  const nav = el('nav', { class: 'pager', 'aria-label': i.t('customers') },
    el('button', { type: 'button', disabled: state.page === 0, onclick: () => { state.page--; renderCustomers(); } }, i.t('prev')),
    el('span', { text: i.t('pageOf', { page: state.page + 1, pages }) }),
    el('button', { type: 'button', disabled: state.page >= pages - 1, onclick: () => { state.page++; renderCustomers(); } }, i.t('next')));
  $('customer-table').replaceChildren(
    el('div', { class: 'scroll' }, el('table', { class: 'customers' },
      el('caption', { text: i.t('customerTableCaption', { n: i.integer(c.count) }) }),
      el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows))),
    nav);
}

async function download() {
  const { csv } = await request({ type: 'export' });
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = el('a', { href: url, download: 'customers.csv' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------------------
// Language

function setLang(lang) {
  state.lang = LANGS.includes(lang) ? lang : 'en';
  state.i18n = makeI18n(state.lang);
  document.documentElement.lang = state.lang;
  $('lang').value = state.lang;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = state.i18n.t(node.dataset.i18n);
  render();
}

// ---------------------------------------------------------------------------
// Start

function filesFrom(list) {
  return [...list].map((f) => ({ blob: f, name: f.name, options: {} }));
}

function init() {
  startWorker();
  startModels();
  setLang(defaultLang(navigator.languages));
  $('lang').addEventListener('change', (e) => setLang(e.target.value));
  $('files').addEventListener('change', (e) => {
    if (e.target.files.length) run(filesFrom(e.target.files));
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files.length) run(filesFrom(e.dataTransfer.files));
  });
  $('cancel').addEventListener('click', cancel);
  $('future-cancel').addEventListener('click', cancelFit);
  $('download').addEventListener('click', download);
  for (const r of document.querySelectorAll('input[name=period]'))
    r.addEventListener('change', (e) => {
      state.period = e.target.value;
      reanalyze();
    });
  $('flow-apply').addEventListener('click', () => {
    state.asOf = $('as-of').value === state.report?.period?.as_of && !state.asOf ? '' : $('as-of').value;
    state.lapseDays = Math.max(1, Number($('lapse-days').value) || 180);
    reanalyze();
  });
  for (const r of document.querySelectorAll('input[name=cohort-view]'))
    r.addEventListener('change', (e) => {
      state.cohortView = e.target.value;
      renderCohorts();
    });
  // Charts drawn inside a closed section have no size: fit them when it opens.
  for (const id of ['future-model-numbers', 'future-model-lists'])
    $(id).addEventListener('toggle', () => Object.values(charts).forEach((c) => c.resize()));
  $('future-apply').addEventListener('click', () => {
    const inputs = ['future-horizon', 'future-margin', 'future-discount'].map($);
    const bad = inputs.find((x) => x.value === '' || !x.checkValidity());
    if (bad) {
      bad.reportValidity();
      return;
    }
    state.model = MODELS.includes($('future-model').value) ? $('future-model').value : 'bg_nbd';
    state.horizonMonths = Number($('future-horizon').value);
    state.marginPercent = Number($('future-margin').value);
    state.discountPercent = Number($('future-discount').value);
    repredict();
  });
  $('series-metric').addEventListener('change', (e) => {
    state.seriesMetric = e.target.value;
    renderCharts();
  });
  // The sample: made up by scripts/gen-sample.mjs, served beside the page.
  fetch('sample/orders.csv')
    .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`sample: HTTP ${r.status}`))))
    .then((blob) => run([{ blob, name: 'sample-shop-orders.csv', options: {} }], { sample: true }))
    .catch((err) => showError(err.message));
}

init();
