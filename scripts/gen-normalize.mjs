// Generates src/io/normalize_data.inc: the tables src/io/normalize.cpp needs to compute NFKC
// matching keys for customer ids without ICU (the engine must stay small and build with
// Emscripten). Node's String.prototype.normalize (full ICU) is the reference: every table is
// read off it, and the script checks its own implementation of the algorithm against it
// before writing anything.
//
//   node scripts/gen-normalize.mjs            # rewrites src/io/normalize_data.inc
//   node scripts/gen-normalize.mjs --check    # only checks; exits 1 if the file would change
//
// Tables (see normalize.cpp for how they are used):
//   kDecompCp / kDecompAt / kDecompUtf16
//                         full compatibility decomposition (NFKD, as UTF-16) of every BMP code
//                         point whose NFKD is not itself, except Hangul syllables (algorithmic).
//                         Code points above the BMP (mathematical alphanumerics, CJK compatibility
//                         supplement) keep their spelling: a documented limit that saves ~10 KiB
//   kOrder                canonical ordering classes of the non-starters, as ranges. Node has no
//                         API for the combining class itself, so the classes are ranks read off
//                         NFD's reordering: only their order matters to the algorithm
//   kCompose16 / kCompose32
//                         canonical composition pairs (first, second) -> composite, all planes
//                         (the BMP ones in 16 bits)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'io', 'normalize_data.inc');
const MAX = 0x10ffff;
const isSurrogate = (c) => c >= 0xd800 && c <= 0xdfff;
const isHangulSyllable = (c) => c >= 0xac00 && c <= 0xd7a3;
const chr = (c) => String.fromCodePoint(c);
const cps = (s) => Array.from(s, (ch) => ch.codePointAt(0));

// 1. Decompositions.
const decomp = new Map();
for (let c = 0x80; c <= 0xffff; ++c) {
  if (isSurrogate(c) || isHangulSyllable(c)) continue;
  const s = chr(c), d = s.normalize('NFKD');
  if (d !== s) decomp.set(c, cps(d));
}

// 2. Non-starters and their order. x (its own NFD) is a non-starter when NFD moves it across
// U+0301 (class 230) or U+0334 (class 1): both stay put only for class 0.
const nonStarters = [];
for (let c = 0x80; c <= MAX; ++c) {
  if (isSurrogate(c) || decomp.has(c) || isHangulSyllable(c)) continue;
  const x = chr(c);
  if (x.normalize('NFD') !== x) continue;
  const a = 'a\u0301' + x, b = 'a' + x + '\u0334';
  if (a.normalize('NFD') !== a || b.normalize('NFD') !== b) nonStarters.push(c);
}
// cmp(x, y) > 0 when x's class is higher (NFD puts y first).
const cmp = (x, y) => {
  const s = 'a' + chr(x) + chr(y);
  if (s.normalize('NFD') !== s) return 1;
  const t = 'a' + chr(y) + chr(x);
  return t.normalize('NFD') !== t ? -1 : 0;
};
const sorted = [...nonStarters].sort(cmp);
const rank = new Map();
let r = 0;
for (let i = 0; i < sorted.length; ++i) {
  if (i === 0 || cmp(sorted[i - 1], sorted[i]) !== 0) ++r;
  rank.set(sorted[i], r);
}
if (r > 255) throw new Error(`too many ordering classes: ${r}`);
const order = [];  // [first, last, rank]
for (const c of nonStarters) {
  const last = order[order.length - 1];
  if (last && last[1] === c - 1 && last[2] === rank.get(c)) last[1] = c;
  else order.push([c, c, rank.get(c)]);
}

// 3. Composition pairs: how NFC builds each composite from its decomposed form, one mark at a
// time (the pair the algorithm meets, which is the composite's one-step decomposition).
const compose = [];
for (let c = 0x80; c <= MAX; ++c) {
  if (isSurrogate(c) || isHangulSyllable(c)) continue;
  const s = chr(c), d = s.normalize('NFD');
  if (d === s || d.normalize('NFC') !== s) continue;  // not decomposable, or excluded
  const p = cps(d);
  if (p.length < 2) continue;
  const first = cps(String.fromCodePoint(...p.slice(0, -1)).normalize('NFC'));
  if (first.length !== 1) throw new Error(`U+${c.toString(16)}: prefix does not compose`);
  compose.push([first[0], p[p.length - 1], c]);
}
compose.sort((x, y) => x[0] - y[0] || x[1] - y[1]);

// 4. The algorithm of normalize.cpp, in JS, checked against ICU.
const decompMap = decomp, composeMap = new Map(compose.map(([a, b, c]) => [a * 0x110000 + b, c]));
const SBase = 0xac00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11a7, LCount = 19, VCount = 21, TCount = 28;
function nfkc(s) {
  const buf = [];
  for (const c of cps(s)) {
    if (isHangulSyllable(c)) {
      const i = c - SBase, t = i % TCount;
      buf.push(LBase + Math.floor(i / (VCount * TCount)), VBase + Math.floor((i % (VCount * TCount)) / TCount));
      if (t) buf.push(TBase + t);
    } else buf.push(...(decompMap.get(c) ?? [c]));
  }
  const cls = (c) => rank.get(c) ?? 0;
  for (let i = 1; i < buf.length; ++i) {  // stable insertion sort of each run of non-starters
    const c = buf[i], k = cls(c);
    if (!k) continue;
    let j = i;
    while (j > 0 && cls(buf[j - 1]) > k) buf[j] = buf[j - 1], --j;
    buf[j] = c;
  }
  // Composition: each character joins the last starter when nothing between them blocks it (a
  // starter, or a mark of the same or a higher class).
  const res = [];
  let starter = -1, lastCls = 0;
  for (const c of buf) {
    const k = cls(c), adjacent = starter >= 0 && res.length - 1 === starter;
    if (starter >= 0 && (adjacent || (lastCls !== 0 && lastCls < k))) {
      const a = res[starter];
      let comp;
      if (adjacent && a >= LBase && a < LBase + LCount && c >= VBase && c < VBase + VCount)
        comp = SBase + ((a - LBase) * VCount + (c - VBase)) * TCount;
      else if (adjacent && a >= SBase && a <= 0xd7a3 && (a - SBase) % TCount === 0 && c > TBase && c < TBase + TCount)
        comp = a + (c - TBase);
      else comp = composeMap.get(a * 0x110000 + c);
      if (comp !== undefined) { res[starter] = comp; continue; }
    }
    if (k === 0) starter = res.length;
    lastCls = k;
    res.push(c);
  }
  return String.fromCodePoint(...res);
}
let failures = 0;
const check = (s) => {
  if (nfkc(s) !== s.normalize('NFKC') && ++failures <= 10)
    console.error('mismatch', [...s].map((ch) => ch.codePointAt(0).toString(16)), cps(nfkc(s)).map((c) => c.toString(16)));
};
for (let c = 0; c <= 0xffff; ++c) if (!isSurrogate(c)) check(chr(c));
// Above the BMP: only what the tables cover (marks and compositions) must agree with ICU.
for (let c = 0x10000; c <= MAX; ++c) if (rank.has(c) || compose.some((x) => x[2] === c && x[0] > 0xffff)) check(chr(c).normalize('NFD'));
// Random mixes of bases, marks, composites, jamo and compatibility characters.
const pool = [...new Set([0x41, 0x61, 0x65, 0x73, 0x55, 0x1100, 0x1161, 0x11a8, 0xac00, 0xac01,
  ...nonStarters.filter((c) => c < 0x3100), ...compose.flatMap((x) => x).filter((c) => c < 0x3100),
  ...[...decomp.keys()].filter((c) => c < 0x3400).slice(0, 400)])];
let seed = 12345;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
for (let i = 0; i < 300000; ++i) {
  let s = '';
  for (let n = 1 + rand(6); n > 0; --n) s += chr(pool[rand(pool.length)]);
  check(s);
}
if (failures) {
  console.error(`${failures} mismatches against String.prototype.normalize('NFKC')`);
  process.exit(1);
}

// 5. Emit.
const hex = (c) => '0x' + c.toString(16);
const decompCp = [], decompAt = [0], utf16 = [];
for (const [c, d] of [...decomp].sort((x, y) => x[0] - y[0])) {
  const s = String.fromCodePoint(...d);
  for (let i = 0; i < s.length; ++i) utf16.push(s.charCodeAt(i));
  decompCp.push(c);
  decompAt.push(utf16.length);
}
if (utf16.length > 0xffff) throw new Error('decompositions too long for 16-bit offsets');
const compose16 = compose.filter((x) => x.every((c) => c <= 0xffff));
const compose32 = compose.filter((x) => x.some((c) => c > 0xffff));
for (const [a, b] of order) if (b - a + 1 > 0xffff) throw new Error('ordering range too long');
const wrap = (items, per) => {
  const lines = [];
  for (let i = 0; i < items.length; i += per) lines.push('    ' + items.slice(i, i + per).join(', ') + ',');
  return lines.join('\n');
};
const bytes = decompCp.length * 2 + decompAt.length * 2 + utf16.length * 2 + order.length * 8 +
  compose16.length * 6 + compose32.length * 12;
const text = `// Generated by scripts/gen-normalize.mjs from Node ${process.version} (ICU ${process.versions.icu},
// Unicode ${process.versions.unicode}). Do not edit: run \`node scripts/gen-normalize.mjs\`.
// ${decompCp.length} decompositions (${utf16.length} UTF-16 units), ${order.length} ordering ranges
// (${r} classes), ${compose.length} composition pairs: ${bytes} bytes of tables.

#define CUSTLENS_NORMALIZE_UNICODE "${process.versions.unicode}"

// BMP code points whose NFKD differs, sorted; the NFKD of kDecompCp[i] is
// kDecompUtf16[kDecompAt[i] .. kDecompAt[i + 1]).
static const uint16_t kDecompCp[] = {
${wrap(decompCp.map(hex), 12)}
};

static const uint16_t kDecompAt[] = {
${wrap(decompAt, 14)}
};

static const uint16_t kDecompUtf16[] = {
${wrap(utf16.map(hex), 12)}
};

// {first, count, class rank}: the non-starters (rank 0 = starter), sorted.
static const OrderRange kOrder[] = {
${wrap(order.map(([a, b, k]) => `{${hex(a)}, ${b - a + 1}, ${k}}`), 6)}
};

// {first, second, composite}, sorted by (first, second).
static const ComposePair16 kCompose16[] = {
${wrap(compose16.map((x) => `{${x.map(hex).join(', ')}}`), 6)}
};

static const ComposePair32 kCompose32[] = {
${wrap(compose32.map((x) => `{${x.map(hex).join(', ')}}`), 4)}
};
`;
if (process.argv.includes('--check')) {
  let old = '';
  try { old = readFileSync(out, 'utf8'); } catch {}
  if (old !== text) {
    console.error(`${out} is out of date: run node scripts/gen-normalize.mjs`);
    process.exit(1);
  }
  console.log('normalize_data.inc is up to date');
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}: ${decompCp.length} decompositions (${utf16.length} UTF-16 units), ` +
    `${order.length} ordering ranges (${r} classes), ${compose.length} pairs: ${bytes} bytes of tables`);
}
