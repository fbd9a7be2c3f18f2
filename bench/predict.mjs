// predict() against loading and analysing the same file, in one run, through the npm package
// (docs/benchmarks.md, "The models on real-shaped orders"): the file is read as the page reads
// it (a stream of 1 MiB chunks), analyzed, then predicted with the page's options.
//
// usage: node bench/predict.mjs FILE.csv [--models bg_nbd,pareto_nbd] [--reps 3]
// Prints one JSON line per rep and model: load_s, analyze_s, predict_s (with the automatic
// holdout check), fit_s (calibrationEnd: none: the fits and every customer's predictions),
// the fits' evaluations, the verdict, and the ratio predict / (load + analyze).
import { createReadStream, statSync } from 'node:fs';
import { createEngine } from '../bindings/js/index.js';
import { cliArgs } from './args.mjs';

const { file, opt } = cliArgs('node bench/predict.mjs FILE.csv [--models bg_nbd,pareto_nbd] [--reps 3]');
const models = opt('--models', 'bg_nbd').split(',');
const reps = Number(opt('--reps', 1));
const s = (a, b) => Number(((b - a) / 1000).toFixed(3));

for (let rep = 1; rep <= reps; ++rep) {
  const engine = await createEngine();
  const t0 = performance.now();
  await engine.load('orders', createReadStream(file, { highWaterMark: 1 << 20 }),
    { name: file, sizeHint: statSync(file).size });
  const t1 = performance.now();
  engine.analyze({ period: 'month', lapseDays: 180 });
  const t2 = performance.now();
  for (const model of models) {
    const t3 = performance.now();
    const f = engine.predict({ model, horizonMonths: 12, discountRate: 0.01, calibrationEnd: 'auto', top: 10 });
    const t4 = performance.now();
    const g = engine.predict({ model, horizonMonths: 12, discountRate: 0.01, calibrationEnd: 'none', top: 10 });
    const t5 = performance.now();
    console.log(JSON.stringify({
      rep, model, customers: f.fit.customers, distinct_histories: f.fit.distinct_histories,
      load_s: s(t0, t1), analyze_s: s(t1, t2), predict_s: s(t3, t4), fit_s: s(t4, t5),
      predict_over_load_analyze: Number(((t4 - t3) / (t2 - t0)).toFixed(2)),
      model_used: f.model, verdict: f.verdict, evaluations: f.fit_attempts.map((a) => [a.model, a.evaluations]),
      spend_evaluations: f.spend_model.evaluations, holdout_evaluations: f.holdout.fit?.evaluations ?? null,
      fit_only_model: g.model,
    }));
  }
  engine.close();
}
