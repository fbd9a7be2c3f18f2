// custlens: customer analytics in WebAssembly. The JS client of the engine: it moves bytes
// into the module, parses the JSON the engine returns, and throws CustlensError on failure.
// Works in Node 20 and in browsers (the page uses exactly this entry point).
import createCustlensModule from '../../dist/custlens.mjs';

/** Segment names in the engine's order (src/metrics/analysis.cpp kSegmentNames). */
export const SEGMENT_NAMES = Object.freeze([
  'Champions', 'Loyal Customers', 'Potential Loyalists', 'New Customers', 'Promising',
  'Need Attention', 'About to Sleep', 'At Risk', "Can't Lose Them", 'Hibernating', 'Lost',
]);

/** Lifecycle stages at asOf in the engine's order (src/metrics/analysis.cpp kLifecycleNames). */
export const LIFECYCLE_STAGES = Object.freeze(['lapsed', 'new', 'reactivated', 'at_risk', 'active']);

const NUMERIC_COLUMNS = [
  'orders', 'total_spend', 'mean_order_value', 'recency_days', 'r_score', 'f_score', 'm_score',
  'btyd_frequency', 't_x', 'T', 'btyd_monetary', 'repeat_spend',
];
// What customers() copies out of the wasm heap: its numeric columns, and what its text columns are built from.
const RAW_CUSTOMER_COLUMNS = [
  ...NUMERIC_COLUMNS, 'first_purchase', 'last_purchase', 'segment', 'cohort', 'lifecycle', 'customer_id',
];
const SETTLE = Symbol('custlens.settle');
const PREDICTION_COLUMNS = [
  'p_alive', 'expected_purchases', 'expected_order_value', 'clv_predicted', 'value_at_risk',
  'churn_risk', 'churn_risk_model', 'churn_risk_rhythm', 'churn_risk_decline', 't_x', 'T',
  'frequency_cal', 't_x_cal', 'T_cal', 'monetary_cal', 'frequency_holdout', 'predicted_holdout',
];
const DEFAULT_CHUNK = 1 << 20;

/** An error from the engine: bad input (with table, file, line and column) or bad options. */
export class CustlensError extends Error {
  constructor(e) {
    super(e.message);
    this.name = 'CustlensError';
    this.code = e.code;
    this.table = e.table ?? null;
    this.file = e.file ?? null;
    this.line = e.line ?? null;
    this.column = e.column ?? null;
    this.byte = e.byte ?? null;
  }
}

// The engine's answers come as UTF-8 bytes (a view into the wasm heap, valid until the next
// call): decoded at once.
const utf8 = new TextDecoder();
const text = (bytes) => utf8.decode(bytes);

function unwrap(bytes) {
  const r = JSON.parse(text(bytes));
  if (!r.ok) throw new CustlensError(r.error);
  delete r.ok;
  return r;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * Creates an engine. Options: `wasmBinary` (the .wasm bytes) or `wasmUrl` (where to fetch
 * them); by default Node reads dist/custlens.wasm beside the package and browsers fetch it
 * next to dist/custlens.mjs.
 */
export async function createEngine(options = {}) {
  const moduleOptions = {};
  if (options.wasmBinary) {
    moduleOptions.wasmBinary = options.wasmBinary;
  } else if (options.wasmUrl) {
    moduleOptions.locateFile = () => String(options.wasmUrl);
  } else if (isNode) {
    const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
    moduleOptions.wasmBinary = await readFile(new URL('../../dist/custlens.wasm', import.meta.url));
  }
  const module = await createCustlensModule(moduleOptions);
  return new Engine(module);
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return new TextEncoder().encode(data);
  return null;
}

const isGzip = (b) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

// A Blob or File read slice by slice (File.slice): only one chunk is in memory at a time.
async function* blobChunks(blob, chunkSize) {
  for (let off = 0; off < blob.size; off += chunkSize)
    yield new Uint8Array(await blob.slice(off, Math.min(blob.size, off + chunkSize)).arrayBuffer());
}

async function* chunksOf(data, chunkSize) {
  const bytes = toBytes(data);
  if (bytes) {
    for (let off = 0; off < bytes.length || off === 0; off += chunkSize) {
      yield bytes.subarray(off, Math.min(bytes.length, off + chunkSize));
      if (bytes.length === 0) break;
    }
    return;
  }
  if (data && typeof data.getReader === 'function') { // a web ReadableStream (File.stream())
    const reader = data.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield toBytes(value);
    }
  }
  if (data && (data[Symbol.asyncIterator] || data[Symbol.iterator])) {
    for await (const c of data) yield toBytes(c);
    return;
  }
  throw new TypeError('load() takes a Uint8Array, ArrayBuffer, string, Blob, ReadableStream or (async) iterable of bytes');
}

// .csv.gz: decompressed on the fly with the platform's DecompressionStream (Node 18+, browsers).
async function* gunzipIfNeeded(chunks) {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  if (!isGzip(first.value)) {
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    return;
  }
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const pump = (async () => {
    await writer.write(first.value);
    for (let r = await it.next(); !r.done; r = await it.next()) await writer.write(r.value);
    await writer.close();
  })();
  pump.catch(() => {});
  const reader = ds.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    yield value;
  }
  await pump;
}

function dayToIso(day) {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

function monthToLabel(m) {
  const y = Math.floor(m / 12), mo = (m % 12) + 1;
  return `${y}-${mo < 10 ? '0' : ''}${mo}`;
}

// Labels for a column of small integers (day or month numbers): each distinct value is
// formatted once (a few hundred days), not once per customer (hundreds of thousands).
function labels(values, format) {
  const n = values.length;
  const out = new Array(n);
  if (n === 0) return out;
  let lo = values[0], hi = values[0];
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  const table = new Array(hi - lo + 1);
  for (let i = 0; i < n; i++) {
    const k = values[i] - lo;
    out[i] = table[k] ?? (table[k] = format(values[i]));
  }
  return out;
}

class Engine {
  #m;
  #e;
  #buf = 0;
  #bufSize = 0;
  // customers() tables not yet copied out whole: each copies a column out of the wasm heap
  // when it is first read, and the rest before the analysis it shows is replaced or freed
  // (#settleCustomers). Weak: a table nobody holds is not kept for that.
  #unsettled = [];

  constructor(module) {
    this.#m = module;
    this.#e = new module.Engine();
  }

  /** The engine's version string. */
  get version() {
    return this.#m.version();
  }

  /**
   * Loads one file into a table ("orders"). `data` is bytes (Uint8Array, ArrayBuffer), a
   * string, a Blob or File, a ReadableStream or an (async) iterable of byte chunks; gzip is
   * detected. Options: { name, mapping: {field: column}, delimiter, header, encoding,
   * dateOrder, decimalMark, amountIsNet, sizeHint (bytes; known for bytes and Blobs),
   * chunkSize = 1 MiB, onProgress({ bytes, input, total }) } where `bytes` counts the CSV
   * bytes fed so far, `input` the bytes read from `data` (compressed, for .gz) and `total`
   * the size of `data` when known (bytes, Blob), else null.
   * Returns the file's data-quality report; throws CustlensError.
   */
  async load(table, data, options = {}) {
    this.#settleCustomers();
    const { chunkSize = DEFAULT_CHUNK, onProgress, ...engineOptions } = options;
    // A Blob or File (a dropped file) is read slice by slice; its size lets the engine size
    // its tables once. Plain bytes say their size too.
    let total = null;
    let source;
    if (data && typeof data.slice === 'function' && typeof data.size === 'number' && typeof data.arrayBuffer === 'function') {
      total = data.size;
      source = blobChunks(data, chunkSize);
    } else {
      const bytesIn = toBytes(data);
      if (bytesIn) total = bytesIn.length;
      source = chunksOf(data, chunkSize);
    }
    if (total !== null) engineOptions.sizeHint ??= total;
    unwrap(this.#e.beginLoad(String(table), JSON.stringify(engineOptions)));
    let bytes = 0;
    let input = 0;
    async function* counted(chunks) {
      for await (const c of chunks) {
        input += c.length;
        yield c;
      }
    }
    try {
      for await (const chunk of gunzipIfNeeded(counted(source))) {
        for (let off = 0; off < chunk.length; off += chunkSize) {
          const part = chunk.subarray(off, Math.min(chunk.length, off + chunkSize));
          this.#feed(part);
          bytes += part.length;
        }
        if (onProgress) onProgress({ bytes, input, total });
      }
    } catch (err) {
      this.#e.abortLoad();
      throw err;
    }
    return unwrap(this.#e.endLoad()).file;
  }

  #feed(part) {
    if (part.length > this.#bufSize) {
      if (this.#buf) this.#m._free(this.#buf);
      this.#bufSize = Math.max(part.length, 1 << 16);
      this.#buf = this.#m._malloc(this.#bufSize);
    }
    this.#m.HEAPU8.set(part, this.#buf);
    unwrap(this.#e.feed(this.#buf, part.length));
  }

  /**
   * Computes the report (docs/report-schema.md). Options: { period: 'month' | 'quarter' |
   * 'year' = 'month', asOf: 'YYYY-MM-DD' = last order date, lapseDays = 180,
   * excludeStatuses: [], includeStatuses: [] }.
   */
  analyze(options = {}) {
    this.#settleCustomers();
    return unwrap(this.#e.analyze(JSON.stringify(options)));
  }

  /**
   * The per-customer table of the last analyze(): { count, customer_id: string[],
   * first_purchase / last_purchase: 'YYYY-MM-DD'[], segment: string[], cohort: 'YYYY-MM'[],
   * lifecycle: ('lapsed' | 'new' | 'reactivated' | 'at_risk' | 'active')[] (at asOf),
   * and typed arrays orders, total_spend, mean_order_value, recency_days, r_score,
   * f_score, m_score, btyd_frequency, t_x, T, btyd_monetary, repeat_spend }.
   */
  customers() {
    const orders = this.#e.customerColumn('orders');
    if (orders === null) throw new CustlensError({ code: 'no_analysis', message: 'Run analyze() first' });
    const out = { count: orders.length };
    // Each column is copied out of the wasm heap (a fresh view each time: the heap can move)
    // when first read, or before the next analyze(), load(), reset() or close(), whichever
    // comes first: a caller that sums three columns of a million customers copies three. The
    // text columns are built from their copies on first use (the ids and labels cost more
    // than all the numbers).
    const e = this.#e;
    const copies = new Map();
    const column = (name) => {
      let v = copies.get(name);
      if (v === undefined) {
        v = name === 'customer_id' ? e.customerIdBytes().slice() : e.customerColumn(name).slice();
        copies.set(name, v);
      }
      return v;
    };
    const settle = { all: () => { for (const name of RAW_CUSTOMER_COLUMNS) column(name); } };
    this.#unsettled = this.#unsettled.filter((w) => w.deref() !== undefined);
    this.#unsettled.push(new WeakRef(settle));
    const lazy = (name, make) => {
      Object.defineProperty(out, name, {
        enumerable: true,
        configurable: true,
        get() {
          const value = make();
          Object.defineProperty(out, name, { value, enumerable: true, writable: true });
          return value;
        },
      });
    };
    for (const name of NUMERIC_COLUMNS) lazy(name, () => column(name));
    lazy('customer_id', () => (out.count === 0 ? [] : text(column('customer_id')).split('\x1f')));
    lazy('first_purchase', () => labels(column('first_purchase'), dayToIso));
    lazy('last_purchase', () => labels(column('last_purchase'), dayToIso));
    lazy('segment', () => labels(column('segment'), (s) => SEGMENT_NAMES[s]));
    lazy('cohort', () => labels(column('cohort'), monthToLabel));
    lazy('lifecycle', () => labels(column('lifecycle'), (s) => LIFECYCLE_STAGES[s]));
    Object.defineProperty(out, SETTLE, { value: settle }); // held by the table, weakly by the engine
    return out;
  }

  // Copies out every column the customers() tables still alive have not read.
  #settleCustomers() {
    for (const w of this.#unsettled) w.deref()?.all();
    this.#unsettled = [];
  }

  /**
   * Fits a repeat-purchase model and the Gamma-Gamma spend model and predicts each
   * customer's future (docs/models.md; the `future` object of docs/report-schema.md).
   * Options: { model: 'bg_nbd' | 'mbg_nbd' | 'pareto_nbd' = 'bg_nbd', timeUnit: 'days' |
   * 'weeks' | 'months' = 'weeks', horizonMonths = 12, margin = 1, discountRate = 0.01 (a
   * month), calibrationEnd: 'auto' | 'none' | 'YYYY-MM-DD' = 'auto', top = 25, source:
   * 'orders' | 'btyd_summary' }. The orders source needs analyze() first.
   */
  predict(options = {}) {
    return unwrap(this.#e.predict(JSON.stringify(options))).future;
  }

  /**
   * The per-row predictions of the last predict() (rows of customers(), or of the
   * btyd_summary table): { count, customer_id: string[], and Float64Arrays p_alive,
   * expected_purchases, expected_order_value, clv_predicted, value_at_risk, churn_risk
   * (Uint8Array 0-100) and its parts churn_risk_model / _rhythm / _decline, t_x, T (the
   * model's unit), and with a calibration split frequency_cal, t_x_cal, T_cal,
   * monetary_cal, frequency_holdout, predicted_holdout }. NaN where a value is not
   * defined (e.g. the holdout columns of customers who first bought after the calibration end).
   */
  predictions() {
    const out = { count: 0 };
    for (const name of PREDICTION_COLUMNS) {
      const v = this.#e.predictionColumn(name);
      if (v !== null) out[name] = v.slice();
    }
    if (!out.p_alive) throw new CustlensError({ code: 'no_prediction', message: 'Run predict() first' });
    out.count = out.p_alive.length;
    const ids = this.#e.predictionIdBytes().slice(); // UTF-8, joined by U+001F
    Object.defineProperty(out, 'customer_id', {
      enumerable: true,
      configurable: true,
      get() {
        const value = out.count === 0 ? [] : text(ids).split('\x1f');
        Object.defineProperty(out, 'customer_id', { value, enumerable: true, writable: true });
        return value;
      },
    });
    return out;
  }

  /**
   * The per-customer table of the last analyze() as CSV text for a download: a header, then
   * one CRLF-ended row per customer; ids quoted and prefixed with ' where a spreadsheet would
   * run them as formulas (docs/report-schema.md, "customersCsv()"). UTF-8 once encoded, no BOM.
   */
  customersCsv() {
    const bytes = this.#e.customersCsv();
    // A failure comes back as the engine's error JSON; the CSV itself starts with its header.
    if (bytes[0] === 0x7b) unwrap(bytes); // '{'
    return text(bytes);
  }

  /** Drops every loaded table. */
  reset() {
    this.#settleCustomers();
    unwrap(this.#e.reset());
  }

  /** Frees the engine's memory; the object is unusable afterwards. */
  close() {
    this.#settleCustomers();
    if (this.#buf) this.#m._free(this.#buf);
    this.#buf = 0;
    this.#e.delete();
  }
}
