// A seeded simulator of realistic repeat-purchase data, for the model benchmarks and tests:
// customers buy as BG/NBD says (Fader, Hardie & Lee 2005) and spend as Gamma-Gamma says.
// No real data set this large exists in ../shared/data, so the 1M-customer benchmark runs on
// this. Everything is in whole days, like the summaries the engine builds from orders.
//
//   import { simulate } from './btyd_sim.mjs';
//   const rows = simulate({ customers: 1e6, seed: 42 });  // { x, t_x, T, m } typed arrays
//
// Each customer: first purchase on a day uniform over `acquisitionDays`, observed until day
// `acquisitionDays + followDays`; purchase rate λ ~ Gamma(r, alpha) (per day), drop-out
// chance after each purchase p ~ Beta(a, b); gaps ~ Exponential(λ). Purchases on one day are
// one purchase day (btyd_frequency counts distinct days). Spend per purchase ~ Gamma(sp, ν)
// with ν ~ Gamma(sq, sgamma); m is the mean over the repeat purchase days.

// sfc32: a small, fast, seeded generator (same numbers on every machine and engine).
function sfc32(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next();
  // A double in (0, 1) from 53 random bits.
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6) + 0.5) / 9007199254740992;
}

// Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 through Gamma(shape + 1) × U^(1/shape).
function gammaSampler(uniform) {
  const normal = () => {
    // Box-Muller, one value per call (simple, and fast enough here).
    const u = uniform(), v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const gamma = (shape) => {
    if (shape < 1) return gamma(shape + 1) * Math.pow(uniform(), 1 / shape);
    const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x, v;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  return gamma;
}

export const DEFAULTS = {
  customers: 1_000_000,
  seed: 42,
  r: 0.25, alpha: 30, a: 0.8, b: 2.5,         // BG/NBD, alpha in days
  sp: 6, sq: 4, sgamma: 150,                   // Gamma-Gamma: mean spend sp × sgamma / (sq − 1) = 300
  acquisitionDays: 365, followDays: 183,
};

export function simulate(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const uniform = sfc32(o.seed);
  const gamma = gammaSampler(uniform);
  const n = o.customers;
  const x = new Float64Array(n), t_x = new Float64Array(n), T = new Float64Array(n), m = new Float64Array(n);
  const end = o.acquisitionDays + o.followDays;
  for (let i = 0; i < n; i++) {
    const first = Math.floor(uniform() * o.acquisitionDays);
    const span = end - first;
    const lambda = gamma(o.r) / o.alpha;
    const ga = gamma(o.a), gb = gamma(o.b);
    const p = ga / (ga + gb);
    let t = 0, lastDay = 0, days = 0;
    for (;;) {
      t += -Math.log(uniform()) / lambda;
      if (t >= span) break;
      const day = Math.floor(t);
      if (day !== lastDay) days++, lastDay = day;
      if (uniform() < p) break;  // BG/NBD: a customer may drop out after each repeat purchase
    }
    x[i] = days;
    t_x[i] = days ? lastDay : 0;
    T[i] = span - 1;  // the last observed day is end - 1
    if (days) {
      const nu = gamma(o.sq) / o.sgamma;
      m[i] = gamma(o.sp * days) / nu / days;  // the mean of `days` Gamma(sp, ν) spends
    }
  }
  return { x, t_x, T, m, options: o };
}

/** The rows as a btyd_summary CSV (t_x and T in days), for engine.load('btyd_summary', ...). */
export function toCsv({ x, t_x, T, m }) {
  const parts = ['btyd_frequency,t_x,T,btyd_monetary\n'];
  for (let i = 0; i < x.length; i++) parts.push(`${x[i]},${t_x[i]},${T[i]},${x[i] ? m[i].toFixed(2) : 0}\n`);
  return parts.join('');
}
