// The models' speed target (issue: "fitting BG/NBD + Gamma-Gamma on 1M synthetic customers in
// the browser build takes under a second"): simulated customers (bench/btyd_sim.mjs) go into
// the WebAssembly engine as a btyd_summary table, and predict() is timed — the BTYD fit, the
// Gamma-Gamma fit and every customer's P(alive), expected purchases, order value and CLV.
//
// usage: node bench/models.mjs [--customers 1000000] [--model bg_nbd] [--reps 3] [--seed 42]
// Prints one JSON line: the simulation's true parameters, the fitted ones, and the timings.
import { createEngine } from '../bindings/js/index.js';
import { simulate, toCsv } from './btyd_sim.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const customers = Number(opt('--customers', 1_000_000));
const model = opt('--model', 'bg_nbd');
const reps = Number(opt('--reps', 3));
const seed = Number(opt('--seed', 42));

let t = performance.now();
const sim = simulate({ customers, seed });
const csv = new TextEncoder().encode(toCsv(sim));
const simulate_s = (performance.now() - t) / 1000;

const engine = await createEngine();
t = performance.now();
await engine.load('btyd_summary', csv, { name: 'simulated.csv', timeUnit: 'days' });
const load_s = (performance.now() - t) / 1000;

const runs = [];
let future;
for (let i = 0; i < reps; i++) {
  t = performance.now();
  future = engine.predict({ model, timeUnit: 'days', calibrationEnd: 'none', source: 'btyd_summary' });
  runs.push((performance.now() - t) / 1000);
}
const sorted = [...runs].sort((a, b) => a - b);
const out = {
  customers,
  model,
  truth: { r: sim.options.r, alpha: sim.options.alpha, a: sim.options.a, b: sim.options.b,
    p: sim.options.sp, q: sim.options.sq, gamma: sim.options.sgamma },
  fit: future.fit.params,
  fit_ok: future.fit.ok,
  fit_converged: future.fit.converged,
  evaluations: future.fit.evaluations,
  distinct_histories: future.fit.distinct_histories,
  spend: future.spend_model.params,
  spend_customers: future.spend_model.customers,
  spend_evaluations: future.spend_model.evaluations,
  clv_mean: future.metrics.clv_predicted.value,
  simulate_s, load_s,
  predict_s: runs,
  predict_median_s: sorted[Math.floor(sorted.length / 2)],
};
process.stdout.write(`${JSON.stringify(out)}\n`);
