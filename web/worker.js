// The engine's thread. The page sends files and options; this worker loads them chunk by
// chunk (File.slice) into the WebAssembly engine, reports progress, and answers with the
// report, the per-customer columns and the customers' purchase histories, which the page
// hands to the models' own worker (models.js): a fit never holds up this one. It makes no
// request except for the engine's own .wasm beside it. Cancelling is the page terminating
// this worker.
import { createEngine, CustlensError } from './custlens/bindings/js/index.js';

let enginePromise = null;
const engine = () => (enginePromise ??= createEngine());

const errorOf = (err, file) => {
  if (err instanceof CustlensError)
    return { message: err.message, code: err.code, file: err.file ?? file, line: err.line, column: err.column };
  return { message: String(err?.message ?? err), code: 'internal', file };
};

// The per-customer columns the page shows, as plain arrays and typed arrays (transferred).
function customerColumns(e) {
  const c = e.customers();
  const cols = {
    count: c.count,
    customer_id: c.customer_id,
    first_purchase: c.first_purchase,
    last_purchase: c.last_purchase,
    segment: c.segment,
    cohort: c.cohort,
  };
  if ('lifecycle' in c) cols.lifecycle = c.lifecycle;
  const transfer = [];
  for (const name of ['orders', 'total_spend', 'mean_order_value', 'recency_days', 'r_score', 'f_score', 'm_score',
    'btyd_frequency', 't_x', 'T', 'btyd_monetary', 'repeat_spend']) {
    cols[name] = c[name];
    transfer.push(c[name].buffer);
  }
  return { cols, transfer };
}

// The customers' purchase histories, for the models' worker (transferred, not copied).
function histories(e) {
  try {
    const h = e.histories();
    return { histories: h.buffer, historiesError: null };
  } catch (err) {
    return { histories: null, historiesError: errorOf(err, null) };
  }
}

function answer(id, e, analyzeOptions, files) {
  const report = e.analyze(analyzeOptions);
  const { cols, transfer } = customerColumns(e);
  const h = histories(e);
  self.postMessage({ id, type: 'result', report, files, customers: cols, ...h },
    h.histories ? [...transfer, h.histories] : transfer);
}

// One request at a time, in order: a load awaits its file's chunks, and a request arriving
// meanwhile (the histories for the models, a download) waits for it instead of reading an
// engine halfway through a load.
let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event));
};

async function handle({ data: msg }) {
  const { id } = msg;
  let current = null;
  try {
    const e = await engine();
    if (msg.type === 'load') {
      // msg.files: [{ blob, name, options }]; every file is loaded again (a changed mapping
      // applies to its file only, but the table is rebuilt from all of them).
      e.reset();
      const files = [];
      const refused = [];
      const totals = msg.files.map((f) => f.blob.size);
      const all = totals.reduce((a, b) => a + b, 0) || 1;
      let done = 0;
      for (let i = 0; i < msg.files.length; i++) {
        const f = msg.files[i];
        current = f.name;
        const { table: chosen, ...options } = f.options ?? {};
        const read = (table) => e.load(table, f.blob, {
          ...options,
          name: f.name,
          onProgress: ({ input }) =>
            self.postMessage({ id, type: 'progress', file: f.name, index: i, count: msg.files.length, fraction: (done + input) / all }),
        });
        let report;
        try {
          // The file's header says which table it is (file.classification), unless the user chose.
          report = await read(chosen ?? 'auto');
          report.table = report.classification?.table ?? chosen;
          files.push(report);
        } catch (err) {
          // Each file stands on its own: a refused one is listed (data_quality.refused) and
          // the others are analysed. Only when none can be read is the drop an error.
          refused.push(errorOf(err, f.name));
        }
        done += totals[i];
      }
      current = null;
      if (files.length === 0) {
        self.postMessage({ id, type: 'error', error: refused[0] });
        return;
      }
      answer(id, e, msg.analyze, files);
    } else if (msg.type === 'analyze') {
      answer(id, e, msg.analyze, null);
    } else if (msg.type === 'histories') {
      // Again, for a models worker that lost them (a cancelled fit).
      const h = histories(e);
      self.postMessage({ id, type: 'histories', ...h }, h.histories ? [h.histories] : []);
    } else if (msg.type === 'export') {
      // UTF-8 bytes, transferred: no text decoded here and encoded again for the Blob.
      const csv = e.customersCsvBytes();
      self.postMessage({ id, type: 'export', csv }, [csv.buffer]);
    }
  } catch (err) {
    self.postMessage({ id, type: 'error', error: errorOf(err, current) });
  }
}
