// The models' thread. It fits the repeat-purchase and spend models on the customers' purchase
// histories that the engine's worker made from its analysis (engine.histories()), never on the
// files: the analysis, its download and a re-analysis never wait behind a fit, and this
// worker holds only what the models need. It reports each step of a fit as it starts.
// Cancelling a fit is the page terminating this worker; a new one is sent the histories again.
// It makes no request except for the engine's own .wasm beside it.
import { createEngine, CustlensError } from './custlens/bindings/js/index.js';

let enginePromise = null;
const engine = () => (enginePromise ??= createEngine());

const errorOf = (err) => (err instanceof CustlensError
  ? { message: err.message, code: err.code }
  : { message: String(err?.message ?? err), code: 'internal' });

// The per-customer predictions the page's customer table shows (rows of customers()).
const PREDICTION_COLUMNS = ['p_alive', 'clv_predicted', 'expected_purchases', 'churn_risk'];

self.onmessage = async ({ data: msg }) => {
  const { id } = msg;
  try {
    const e = await engine();
    // msg.histories: new histories (a new analysis), or none to fit again on those held.
    if (msg.histories) {
      // Refused histories leave the engine's old ones in place: drop them, never fit those.
      try {
        e.loadHistories(new Uint8Array(msg.histories));
      } catch (err) {
        e.reset();
        throw err;
      }
    }
    let future = null;
    let futureError = null;
    let predictions = null;
    const transfer = [];
    try {
      future = e.predict({ ...msg.predict, onProgress: (p) => self.postMessage({ id, type: 'progress', ...p }) });
      const p = e.predictions();
      predictions = { count: p.count };
      for (const name of PREDICTION_COLUMNS) {
        if (!p[name]) continue;
        predictions[name] = p[name];
        transfer.push(p[name].buffer);
      }
    } catch (err) {
      // The models' failure (no customer column, too few customers) is the Future value
      // section's to show, not an error of this worker.
      futureError = errorOf(err);
    }
    self.postMessage({ id, type: 'future', future, futureError, predictions }, transfer);
  } catch (err) {
    self.postMessage({ id, type: 'error', error: errorOf(err) });
  }
};
