// custlens: customer analytics in WebAssembly. The JS client of the engine: it moves bytes
// into the module, parses the JSON the engine returns, and throws CustlensError on failure.
// Works in Node 20 and in browsers (the page uses exactly this entry point).
import createCustlensModule from '../../dist/custlens.mjs';
import { GzipFramer, GzipFormatError } from './gzip.js';

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

// .csv.gz: recognised by its first two bytes (1F 8B), wherever the chunks split them, and
// decompressed on the fly by the platform's DecompressionStream (Node 18+, browsers).
// Platforms differ after the first gzip member (Node reads more members and skips zero
// padding, browsers refuse both) and in their messages, so a file's verdict is taken from
// GzipFramer (gzip.js), the same everywhere: gunzip() gives each member its own
// DecompressionStream and judges what follows. That walk costs about what inflating does,
// so a file that can be read again (bytes, a Blob or File: `replay` makes its chunks anew)
// first goes through one DecompressionStream alone (gunzipFast), and only a failure, or an
// ending that is not one member's, has it read again through gunzip(). `gz` counts the
// decompressed bytes and line feeds, for the messages.
async function* decompressIfGzip(chunks, gz, replay) {
  const it = chunks[Symbol.asyncIterator]();
  let done = false;
  try {
    const head = [];
    let have = 0;
    while (have < 2) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      if (r.value.length === 0) continue;
      head.push(r.value);
      have += r.value.length;
    }
    const byte = (i) => (i < head[0].length ? head[0][i] : head[1][i - head[0].length]);
    if (have >= 2 && byte(0) === 0x1f && byte(1) === 0x8b) {
      done = true; // these read `it` to its end or return it
      yield* replay ? gunzipFast(head, it, gz, replay) : gunzip(head, it, gz);
      return;
    }
    yield* head;
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    done = true;
  } finally {
    if (!done) await it.return?.();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

// A DecompressionStream's own error: a checksum that does not match (the one thing the
// framer leaves to it), in zlib's words, which Node and browsers pass on in their own.
const CHECKSUM = /data check|length check|header crc/i;
function decompressorError(err, offset) {
  return new GzipFormatError('corrupt', offset, CHECKSUM.test(String(err?.message)) ? 'checksum' : 'damaged');
}

// Line feeds in the decompressed data, for the messages: the byte 0A, or in UTF-16 (by the
// encoding option or the BOM) the unit 000A. (A file that ends its lines with CR alone
// counts none.)
class LineFeeds {
  constructor(encoding) {
    const e = typeof encoding === 'string' ? encoding.toLowerCase() : '';
    this.unit = e === 'utf-16be' ? 'be' : e === 'utf-16le' || e === 'utf-16' ? 'le' : null;
    this.count = 0;
    this.at = 0; // bytes seen
    this.head = []; // the first bytes, until the BOM is known
    this.last = -1; // the byte before this chunk
    this.open = false; // LE: a 0A at an even offset ended the last chunk
  }

  add(v) {
    if (v.length === 0) return;
    if (this.at < 2 && this.unit === null) {
      for (let i = 0; i < v.length && this.head.length < 2; i++) this.head.push(v[i]);
      if (this.head.length === 2) {
        const [a, b] = this.head;
        if (a === 0xff && b === 0xfe) this.unit = 'le';
        else if (a === 0xfe && b === 0xff) this.unit = 'be';
      }
    }
    if (this.unit === null) {
      for (let i = v.indexOf(10); i >= 0; i = v.indexOf(10, i + 1)) this.count++;
    } else if (this.unit === 'le') {
      if (this.open && v[0] === 0) this.count++;
      this.open = false;
      for (let i = v.indexOf(10); i >= 0; i = v.indexOf(10, i + 1)) {
        if ((this.at + i) % 2 !== 0) continue;
        if (i + 1 < v.length) this.count += v[i + 1] === 0 ? 1 : 0;
        else this.open = true;
      }
    } else {
      for (let i = v.indexOf(10); i >= 0; i = v.indexOf(10, i + 1))
        if ((this.at + i) % 2 === 1 && (i > 0 ? v[i - 1] : this.last) === 0) this.count++;
    }
    this.last = v[v.length - 1];
    this.at += v.length;
  }
}

const number = (n) => n.toLocaleString('en-US');

// The CustlensError of a .gz file that is cut short, damaged, or goes on after its
// compressed data (docs/report-schema.md: gzip_truncated, gzip_trailing_data, bad_gzip).
function gzipError(err, table, file, gz) {
  const lines = gz.lines.count;
  const plural = (n, what) => `${number(n)} ${what}${n === 1 ? '' : 's'}`;
  if (err.kind === 'truncated') {
    return new CustlensError({
      code: 'gzip_truncated', table, file, line: lines + 1, byte: gz.bytes,
      message: 'The file ends before its compressed data does: it was cut short while downloading or copying. ' +
        (gz.bytes === 0 ? 'None of its data is there'
          : `Only the first ${plural(gz.bytes, 'byte')} of its data are there, up to line ${number(lines + 1)} ` +
            `(${plural(lines, 'complete line')})`) + ': download or copy the file again',
    });
  }
  if (err.kind === 'trailing') {
    return new CustlensError({
      code: 'gzip_trailing_data', table, file,
      message: `The file goes on after the end of its compressed data, from byte ${number(err.offset)} of the file: ` +
        'something was added to it, or it was damaged, while downloading or copying. The compressed data itself ' +
        `was read in full (${plural(gz.bytes, 'byte')}, ${plural(lines, 'line')}): download or copy the file ` +
        'again, or decompress it yourself and load the CSV',
    });
  }
  const why = err.message === 'checksum' ? ' (its checksum does not match the data)'
    : err.message === 'damaged' ? '' : ` (at byte ${number(err.offset)} of the file: ${err.message})`;
  return new CustlensError({
    code: 'bad_gzip', table, file,
    message: `The compressed data of this file is damaged${why}: it was changed or broken while downloading or ` +
      'copying. Download or copy the file again',
  });
}

// One DecompressionStream over the whole file. Its success is taken when the file ends
// with the trailer of a member whose size (ISIZE) is all the data: one member, nothing
// after it (browsers only succeed then; Node also reads more members and padding). Any
// failure or other ending: the file is read again through gunzip(), which gives the verdict
// and the counts, and what the engine already has is not given again.
async function* gunzipFast(head, it, gz, replay) {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const tail = new Uint8Array(8); // the file's last 8 bytes
  let tailLength = 0;
  const keepTail = (c) => {
    if (c.length >= 8) {
      tail.set(c.subarray(c.length - 8));
    } else {
      tail.copyWithin(0, c.length);
      tail.set(c, 8 - c.length);
    }
    tailLength = Math.min(8, tailLength + c.length);
  };
  let sourceError = null;
  let stopped = false;
  const pump = (async () => {
    try {
      for (const c of head) {
        keepTail(c);
        await writer.write(c);
      }
      for (;;) {
        let r;
        try {
          r = await it.next();
        } catch (err) {
          sourceError = err;
          throw err;
        }
        if (r.done) break;
        if (stopped) return;
        if (r.value.length === 0) continue;
        keepTail(r.value);
        await writer.write(r.value);
      }
      await writer.close();
    } catch (err) {
      writer.abort(err).catch(() => {});
      throw err;
    } finally {
      if (stopped || sourceError) await it.return?.().catch(() => {});
    }
  })();
  pump.catch(() => {});
  const reader = ds.readable.getReader();
  let whole = false;
  try {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        gz.bytes += value.length;
        yield value;
      }
      await pump;
      const isize = (tail[4] | (tail[5] << 8) | (tail[6] << 16) | (tail[7] << 24)) >>> 0;
      whole = tailLength === 8 && isize === gz.bytes % 0x100000000;
    } catch {
      // the decompressor's error, or the source's: settled below
    }
  } finally {
    if (!whole) {
      // Cancelling the reader first: a write waiting for it would hold up the abort (the
      // Streams spec, and Node's adapter) and the pump with it.
      stopped = true;
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
    }
  }
  // (When the consumer stops early, the generator ends in the finally above.)
  if (whole) return;
  await pump.catch(() => {});
  if (sourceError) throw sourceError;
  // Again, from the start, through the framer; the bytes the engine has are skipped.
  const given = gz.bytes;
  gz.bytes = 0;
  const again = replay()[Symbol.asyncIterator]();
  const first = [];
  for (let have = 0; have < 2;) { // the file starts with 1F 8B, as it did
    const r = await again.next();
    if (r.done) break;
    if (r.value.length === 0) continue;
    first.push(r.value);
    have += r.value.length;
  }
  for await (const v of gunzip(first, again, gz)) {
    const start = gz.bytes - v.length;
    if (gz.bytes <= given) continue;
    yield start >= given ? v : v.subarray(given - start);
  }
}

async function* gunzip(head, it, gz) {
  const framer = new GzipFramer();
  const members = []; // each member's decompressed stream, in order
  let writer = null; // of the member being written
  let wake = null;
  const notify = () => {
    if (wake) wake();
    wake = null;
  };
  let finished = false;
  let failure = null; // what went wrong: GzipFormatError, or the source's own error
  let dsError = null; // a decompressor's error, as its reader got it
  let stopped = false;

  const write = async (span) => {
    if (!writer) {
      const ds = new DecompressionStream('gzip');
      writer = ds.writable.getWriter();
      members.push(ds.readable);
      notify();
    }
    try {
      if (span.bytes.length) await writer.write(span.bytes);
      if (span.end) {
        const w = writer;
        writer = null;
        await w.close();
      }
    } catch (err) {
      throw decompressorError(err, null);
    }
  };
  const feed = async ({ spans, error }) => {
    // Damage found by the framer is reported as it found it: the decompressor does not get
    // the damaged bytes (it would say the same in its own words, or not at once in Node).
    if (error?.kind === 'corrupt') throw error;
    for (const span of spans) await write(span);
    if (error) throw error;
  };
  const pump = (async () => {
    try {
      for (const c of head) await feed(framer.push(c));
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (stopped) {
          await it.return?.();
          return;
        }
        if (r.value.length) await feed(framer.push(r.value));
      }
      if (!stopped) await feed(framer.finish());
    } catch (err) {
      failure = err;
      const w = writer;
      writer = null;
      if (w) {
        // A member cut short: what its bytes decode to is read first (the count in the
        // message is then the same on every platform), then it is dropped.
        if (err instanceof GzipFormatError && err.kind === 'truncated') {
          for (let idle = 0; idle < 50 && gz.bytes < framer.output && !stopped;) {
            const before = gz.bytes;
            await tick();
            idle = gz.bytes === before ? idle + 1 : 0;
          }
          // The decompressor has the last word on the bytes it has: a checksum it could
          // read (the file cut inside the trailer, after the CRC) or a header's CRC that
          // does not match is damage, not a cut. (Browsers say so at once, Node later.)
          await w.close().catch(() => {});
          await tick(); // the reader has the decompressor's error (Node's close() may not)
          if (CHECKSUM.test(String(dsError?.message))) failure = decompressorError(dsError, null);
        } else {
          w.abort(err).catch(() => {});
        }
      }
      await it.return?.().catch(() => {}); // nothing more is read from the source
    } finally {
      finished = true;
      notify();
    }
  })();
  // Stops everything: the member readers are cancelled first, since a write waiting for
  // its reader would hold up the abort (the Streams spec, and Node's adapter).
  let reader = null;
  const abandon = () => {
    stopped = true;
    reader?.cancel().catch(() => {});
    for (let i = next; i < members.length; i++) members[i].cancel().catch(() => {});
    writer?.abort().catch(() => {});
    writer = null;
  };
  let next = 0;
  try {
    for (;;) {
      while (next === members.length && !finished) await new Promise((resolve) => (wake = resolve));
      if (next === members.length) break;
      reader = members[next++].getReader();
      for (;;) {
        let r;
        try {
          r = await reader.read();
        } catch (err) {
          dsError ??= err;
          if (!finished) {
            abandon();
            await pump; // it says what went wrong
          }
          throw failure ?? decompressorError(err, null);
        }
        if (r.done) break;
        const v = r.value;
        gz.bytes += v.length;
        gz.lines.add(v);
        yield v;
      }
    }
    await pump;
    if (failure) throw failure;
  } finally {
    if (!finished) abandon(); // the consumer stopped: the pump ends by itself, unwaited
  }
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
  // Files loaded per table since the last reset() (the engine names a file without a name
  // "orders#N" from this).
  #loaded = new Map();
  // predict() is running: its onProgress callback must not call back into the engine, whose
  // analysis the fits are reading.
  #busy = false;

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
    this.#idle();
    this.#settleCustomers();
    const { chunkSize = DEFAULT_CHUNK, onProgress, ...engineOptions } = options;
    // A Blob or File (a dropped file) is read slice by slice; its size lets the engine size
    // its tables once. Plain bytes say their size too.
    let total = null;
    let source;
    let replay = null; // the chunks again, for a source that can be read twice
    if (data && typeof data.slice === 'function' && typeof data.size === 'number' && typeof data.arrayBuffer === 'function') {
      total = data.size;
      source = blobChunks(data, chunkSize);
      replay = () => blobChunks(data, chunkSize);
    } else {
      const bytesIn = toBytes(data);
      if (bytesIn) {
        total = bytesIn.length;
        replay = () => chunksOf(bytesIn, chunkSize);
      }
      source = chunksOf(bytesIn ?? data, chunkSize);
    }
    if (total !== null) engineOptions.sizeHint ??= total;
    // The engine's own name for a file without one, for the errors raised here.
    const name = typeof engineOptions.name === 'string' ? engineOptions.name : `${table}#${(this.#loaded.get(String(table)) ?? 0) + 1}`;
    unwrap(this.#e.beginLoad(String(table), JSON.stringify(engineOptions)));
    let bytes = 0;
    let input = 0;
    async function* counted(chunks) {
      for await (const c of chunks) {
        input += c.length;
        yield c;
      }
    }
    const gz = { bytes: 0, lines: new LineFeeds(engineOptions.encoding) };
    let file;
    try {
      for await (const chunk of decompressIfGzip(counted(source), gz, replay)) {
        for (let off = 0; off < chunk.length; off += chunkSize) {
          const part = chunk.subarray(off, Math.min(chunk.length, off + chunkSize));
          this.#feed(part);
          bytes += part.length;
        }
        if (onProgress) onProgress({ bytes, input, total });
      }
      file = unwrap(this.#e.endLoad()).file;
    } catch (caught) {
      const err = caught instanceof GzipFormatError ? gzipError(caught, String(table), name, gz) : caught;
      // Every error of a load names its table and file (out_of_memory did not always).
      if (err instanceof CustlensError && err.code !== 'bad_options') {
        err.table ??= String(table);
        err.file ??= name;
      }
      // The file is listed in data_quality.refused with this error (the engine lists its own
      // errors when they happen; then there is no load left to abort).
      this.#e.abortLoad(JSON.stringify({ code: err?.code ?? 'internal', message: String(err?.message ?? err),
        line: err?.line ?? null, column: err?.column ?? null }));
      throw err;
    }
    this.#loaded.set(String(table), (this.#loaded.get(String(table)) ?? 0) + 1);
    return file;
  }

  #idle() {
    if (this.#busy)
      throw new CustlensError({ code: 'busy', message: 'predict() is running: its onProgress callback cannot call the engine' });
  }

  #malloc(size) {
    const ptr = this.#m._malloc(size);
    if (!ptr) throw new CustlensError({ code: 'out_of_memory', message: `Out of memory: ${size} bytes could not be set aside` });
    return ptr;
  }

  #feed(part) {
    if (part.length > this.#bufSize) {
      if (this.#buf) this.#m._free(this.#buf);
      this.#buf = 0;
      this.#bufSize = 0;
      const size = Math.max(part.length, 1 << 16);
      this.#buf = this.#malloc(size);
      this.#bufSize = size;
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
    this.#idle();
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
    this.#idle();
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
   * 'orders' | 'btyd_summary', onProgress({ step, model, done }) }. The orders source needs
   * analyze() (or loadHistories()) first. onProgress hears each step as it starts: step
   * 'fit' (a repeat-purchase model on all the data, `model` names it), 'spend' (Gamma-Gamma),
   * 'predict' (every customer's predictions) or 'holdout' (the calibration fit and its check);
   * `done` is the share of the work done before it, 0..1.
   */
  predict(options = {}) {
    this.#idle();
    const { onProgress, ...engineOptions } = options;
    // A callback that throws must not unwind through the engine: its error is rethrown after.
    let thrown = null;
    const progress = typeof onProgress === 'function'
      ? (step, model, done) => {
        if (thrown) return;
        try {
          onProgress({ step, model: model || null, done });
        } catch (err) {
          thrown = { err };
        }
      }
      : undefined;
    let future;
    this.#busy = true;
    try {
      future = unwrap(this.#e.predict(JSON.stringify(engineOptions), progress)).future;
    } finally {
      this.#busy = false;
    }
    if (thrown) throw thrown.err;
    return future;
  }

  /**
   * The customers' purchase histories of the last analyze(), as bytes: everything predict()
   * needs and no more (each customer's id, purchase days with their value, returns, orders
   * and total spend). Another engine of this version fits the models on them after
   * loadHistories() — in another worker, apart from the files. Not a file format to keep.
   */
  histories() {
    this.#idle();
    const bytes = this.#e.histories();
    // A failure comes back as the engine's error JSON; the histories start with `CLHIST`.
    if (bytes[0] === 0x7b) unwrap(bytes); // '{'
    return bytes.slice();
  }

  /**
   * Replaces every table this engine holds with histories() from another engine: predict()
   * then gives what it gives on the analysis they came from; analyze() needs files again.
   */
  loadHistories(bytes) {
    this.#idle();
    this.#settleCustomers();
    const b = toBytes(bytes);
    if (!b) throw new TypeError('loadHistories: expected bytes (Uint8Array or ArrayBuffer)');
    const ptr = this.#malloc(Math.max(1, b.length));
    try {
      this.#m.HEAPU8.set(b, ptr);
      unwrap(this.#e.loadHistories(ptr, b.length));
    } finally {
      this.#m._free(ptr);
    }
    this.#loaded.clear();
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
    this.#idle();
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
    this.#idle();
    return text(this.#customersCsv());
  }

  /**
   * customersCsv() as its UTF-8 bytes: for a download (`new Blob([bytes])`) or a file, with
   * no text decoded and encoded again on the way (a million customers are ~100 MB of CSV).
   */
  customersCsvBytes() {
    this.#idle();
    return this.#customersCsv().slice();
  }

  #customersCsv() {
    const bytes = this.#e.customersCsv();
    // A failure comes back as the engine's error JSON; the CSV itself starts with its header.
    if (bytes[0] === 0x7b) unwrap(bytes); // '{'
    return bytes;
  }

  /** Drops every loaded table. */
  reset() {
    this.#idle();
    this.#settleCustomers();
    unwrap(this.#e.reset());
    this.#loaded.clear();
  }

  /** Frees the engine's memory; the object is unusable afterwards. */
  close() {
    this.#idle();
    this.#settleCustomers();
    if (this.#buf) this.#m._free(this.#buf);
    this.#buf = 0;
    this.#e.delete();
  }
}
