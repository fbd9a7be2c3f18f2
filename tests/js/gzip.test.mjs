// .csv.gz through the package: gzip is recognised however the bytes are chunked, and a file
// that is cut short, damaged or goes on after its compressed data is refused with a
// CustlensError naming the file (and, when cut, the line and byte where its data stops),
// the same for every chunking and input shape (bindings/js/index.js, bindings/js/gzip.js).
// The same cases in Chromium: tests/e2e/gzip.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { createEngine, CustlensError } from '../../bindings/js/index.js';
import { GzipFramer } from '../../bindings/js/gzip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shared = `${root}../shared/data/`;

// 3,000 orders, some ids with é, one line per order after the header.
const CSV = 'order_id,customer_id,order_date,amount\n' + Array.from({ length: 3000 }, (_, i) =>
  `o${i},c${i % 97}${i % 5 ? '' : 'é'},2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},${(i % 50) + 1}.5`).join('\n') + '\n';
const GZ = zlib.gzipSync(CSV);

// The same bytes as every input load() takes: chunk sizes, iterables whose first chunks are
// empty or 1 byte (sync and async), a Blob and a web ReadableStream.
function shapes(bytes) {
  const pieces = (n) => Array.from({ length: Math.ceil(bytes.length / n) }, (_, i) => bytes.subarray(i * n, (i + 1) * n));
  return [
    ...[1, 2, 3, 7, 42, 4096].map((chunkSize) => [`chunkSize ${chunkSize}`, () => bytes, { chunkSize }]),
    ['whole', () => bytes, {}],
    ['iterable, first chunk empty', () => [new Uint8Array(0), bytes.subarray(0, 1), bytes.subarray(1)], {}],
    ['iterable, 1-byte chunks', () => pieces(1), {}],
    ['async iterable, 0 and 1 byte first', () => (async function* () {
      yield new Uint8Array(0);
      yield bytes.subarray(0, 1);
      yield new Uint8Array(0);
      for (let o = 1; o < bytes.length; o += 5) yield bytes.subarray(o, o + 5);
    })(), {}],
    ['Blob', () => new Blob([bytes]), { chunkSize: 1000 }],
    ['ReadableStream', () => new Blob([bytes]).stream(), {}],
  ];
}

const fields = (e) => ({ name: e.name, code: e.code, table: e.table, file: e.file, line: e.line, column: e.column,
  byte: e.byte, message: e.message });

async function failure(engine, data, options) {
  try {
    await engine.load('orders', data, options);
  } catch (e) {
    assert.ok(e instanceof CustlensError, `not a CustlensError: ${e?.stack}`);
    return fields(e);
  }
  assert.fail('load() did not fail');
}

// Newlines in what zlib can decompress of `cut` (its data up to the cut).
function partial(cut) {
  const data = zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  let lines = 0;
  for (const b of data) lines += b === 10 ? 1 : 0;
  return { bytes: data.length, lines };
}

const n = (x) => x.toLocaleString('en-US');

test('gzip is recognised at every chunking: chunk sizes 1, 2, 3, 7, 42, 4096, whole, and iterables starting with 0- or 1-byte chunks give one report', async () => {
  const bytes = readFileSync(`${shared}cdnow_customers_summary.csv.gz`);
  const engine = await createEngine();
  const report = async (data, options) => {
    const file = await engine.load('btyd_summary', data, { name: 'summary.csv.gz', timeUnit: 'weeks', ...options });
    engine.reset();
    return JSON.stringify(file);
  };
  const expected = await report(zlib.gunzipSync(bytes), {});
  assert.match(expected, /"rows_read":2357/);
  for (const [label, data, options] of shapes(bytes)) assert.equal(await report(data(), options), expected, label);
  // And an orders file: the whole analysis.
  const orders = async (data, options) => {
    const file = await engine.load('orders', data, { name: 'orders.csv.gz', ...options });
    const r = engine.analyze();
    engine.reset();
    return JSON.stringify({ file, metrics: r.metrics, cohorts: r.cohorts });
  };
  const plain = await orders(CSV, {});
  assert.match(plain, /"rows_read":3000/);
  for (const [label, data, options] of shapes(GZ)) assert.equal(await orders(data(), options), plain, label);
  engine.close();
});

test('concatenated gzip members and zero padding after the last one read as the one-member file', async () => {
  const engine = await createEngine();
  const at = CSV.indexOf('\n', 40000) + 1;
  const members = Buffer.concat([zlib.gzipSync(CSV.slice(0, 100)), zlib.gzipSync(''), zlib.gzipSync(CSV.slice(100, at)),
    zlib.gzipSync(CSV.slice(at), { level: 1 })]);
  const padded = Buffer.concat([GZ, Buffer.alloc(512)]);
  const expected = JSON.stringify(await engine.load('orders', GZ, { name: 'x.csv.gz' }));
  engine.reset();
  for (const bytes of [members, padded]) {
    for (const [label, data, options] of shapes(bytes)) {
      assert.equal(JSON.stringify(await engine.load('orders', data(), { name: 'x.csv.gz', ...options })), expected, label);
      engine.reset();
    }
  }
  engine.close();
});

test('a .gz cut short: gzip_truncated with the file, the line and byte where its data stops, for every chunking', async () => {
  const engine = await createEngine();
  for (const keep of [GZ.length - 1000, GZ.length - 4, 5]) {
    const cut = GZ.subarray(0, keep);
    const { bytes, lines } = partial(cut);
    const message = 'The file ends before its compressed data does: it was cut short while downloading or copying. ' +
      (bytes === 0 ? 'None of its data is there'
        : `Only the first ${n(bytes)} bytes of its data are there, up to line ${n(lines + 1)} (${n(lines)} complete lines)`) +
      ': download or copy the file again';
    const expected = { name: 'CustlensError', code: 'gzip_truncated', table: 'orders', file: 'cut.csv.gz', line: lines + 1,
      column: null, byte: bytes, message };
    for (const [label, data, options] of shapes(cut))
      assert.deepEqual(await failure(engine, data(), { name: 'cut.csv.gz', ...options }), expected, `${keep} bytes, ${label}`);
  }
  // The first cut in numbers: its data stops after 73,619 of the 77,279 bytes, in line 2,862
  // ("o2860,c4"; the header is line 1).
  const e = await failure(engine, GZ.subarray(0, GZ.length - 1000), { name: 'cut.csv.gz' });
  assert.deepEqual([e.byte, e.line], [73619, 2862]);
  assert.equal(e.message, 'The file ends before its compressed data does: it was cut short while downloading or ' +
    'copying. Only the first 73,619 bytes of its data are there, up to line 2,862 (2,861 complete lines): download or ' +
    'copy the file again');
  assert.equal(Buffer.from(CSV).subarray(0, e.byte).toString().split('\n').at(-1), 'o2860,c4');
  // Cut inside a second member: the first one's data counts.
  const two = Buffer.concat([zlib.gzipSync('customer_id,order_date,amount\na,2024-01-01,10\n'), zlib.gzipSync('b,2024-01-02,20\n')]);
  assert.deepEqual(await failure(engine, two.subarray(0, two.length - 3), { name: 'two.csv.gz' }), {
    name: 'CustlensError', code: 'gzip_truncated', table: 'orders', file: 'two.csv.gz', line: 4, column: null, byte: 62,
    message: 'The file ends before its compressed data does: it was cut short while downloading or copying. Only the ' +
      'first 62 bytes of its data are there, up to line 4 (3 complete lines): download or copy the file again',
  });
  // Nothing of a failed file stays: the next load works.
  assert.equal((await engine.load('orders', GZ, { name: 'ok.csv.gz' })).rows_read, 3000);
  engine.close();
});

test('bytes after the gzip member: gzip_trailing_data naming the file, the byte where they start and what was read', async () => {
  const engine = await createEngine();
  const { lines } = partial(GZ);
  assert.equal(lines, 3001);
  // Junk, a line break added by a text-mode copy, zero padding that does not stay zero, a zip.
  for (const extra of [Buffer.from('garbage'), Buffer.from('\r\n'), Buffer.concat([Buffer.alloc(3), Buffer.from('x')]),
    Buffer.from([0x50, 0x4b, 3, 4])]) {
    const bytes = Buffer.concat([GZ, extra]);
    const expected = {
      name: 'CustlensError', code: 'gzip_trailing_data', table: 'orders', file: 'junk.csv.gz', line: null, column: null, byte: null,
      message: `The file goes on after the end of its compressed data, from byte ${n(GZ.length)} of the file: something ` +
        'was added to it, or it was damaged, while downloading or copying. The compressed data itself was read in full ' +
        `(${n(Buffer.byteLength(CSV))} bytes, 3,001 lines): download or copy the file again, or decompress it yourself and load the CSV`,
    };
    for (const [label, data, options] of shapes(bytes))
      assert.deepEqual(await failure(engine, data(), { name: 'junk.csv.gz', ...options }), expected, `${extra.toString('hex')}, ${label}`);
  }
  engine.close();
});

test('a damaged .gz: bad_gzip naming the file, with where the damage is when the framing shows it', async () => {
  const engine = await createEngine();
  const crc = Buffer.from(GZ);
  crc[crc.length - 6] ^= 1; // the CRC-32 in the trailer
  const checksum = {
    name: 'CustlensError', code: 'bad_gzip', table: 'orders', file: 'bad.csv.gz', line: null, column: null, byte: null,
    message: 'The compressed data of this file is damaged (its checksum does not match the data): it was changed or ' +
      'broken while downloading or copying. Download or copy the file again',
  };
  for (const [label, data, options] of shapes(crc))
    assert.deepEqual(await failure(engine, data(), { name: 'bad.csv.gz', ...options }), checksum, label);
  const method = Buffer.from(GZ);
  method[2] = 7; // compression method 7: not deflate
  const header = { ...checksum, message: 'The compressed data of this file is damaged (at byte 2 of the file: unknown ' +
    'compression method): it was changed or broken while downloading or copying. Download or copy the file again' };
  for (const [label, data, options] of shapes(method))
    assert.deepEqual(await failure(engine, data(), { name: 'bad.csv.gz', ...options }), header, label);
  const block = Buffer.from(GZ);
  block[10] |= 6; // the first block's type: 3, which does not exist
  const blockType = { ...checksum, message: 'The compressed data of this file is damaged (at byte 10 of the file: invalid ' +
    'block type): it was changed or broken while downloading or copying. Download or copy the file again' };
  for (const [label, data, options] of shapes(block))
    assert.deepEqual(await failure(engine, data(), { name: 'bad.csv.gz', ...options }), blockType, label);
  engine.close();
});

test('an engine error in the middle of a .gz stops the load at once, whatever the input', async () => {
  // 378 KB of decompressed data without an amount column: refused after the first 64 KiB.
  const bytes = readFileSync(`${shared}example_transactions.csv.gz`);
  const engine = await createEngine();
  for (const [label, data, options] of shapes(bytes)) {
    if (/chunkSize [1237]$/.test(label)) continue; // the same code as 42; slow
    const e = await failure(engine, data(), { name: 'example.csv.gz', ...options });
    assert.equal(e.code, 'missing_column', label);
    assert.equal(e.file, 'example.csv.gz', label);
    assert.equal(e.message, 'No amount column (nor quantity and unit price) found among: date, id. Name the column ' +
      'holding the order amount (mapping: column=amount)', label);
  }
  engine.close();
});

test('a .gz error without a name names the file as the engine does (orders#N)', async () => {
  const engine = await createEngine();
  const cut = GZ.subarray(0, 100);
  assert.equal((await failure(engine, cut, {})).file, 'orders#1');
  await engine.load('orders', GZ);
  assert.equal((await failure(engine, cut, {})).file, 'orders#2');
  assert.equal((await failure(engine, cut, { name: 'named.csv.gz' })).file, 'named.csv.gz');
  await assert.rejects(engine.load('customers', zlib.gzipSync('customer_id,signup_date\na,2024-01-01\n').subarray(0, 30)),
    (err) => err instanceof CustlensError && err.code === 'gzip_truncated' && err.table === 'customers' &&
      err.file === 'customers#1');
  engine.reset();
  assert.equal((await failure(engine, cut, {})).file, 'orders#1');
  engine.close();
});

test('the line where a cut UTF-16 .gz stops counts UTF-16 line feeds, not 0A bytes', async () => {
  // 上 is U+4E0A: in UTF-16LE its bytes are 0A 4E.
  const text = '\ufeffcustomer_id,order_date,amount\r\n' + Array.from({ length: 400 }, (_, i) => `上${i},2024-01-01,${i}\r\n`).join('');
  const utf16 = Buffer.from(text, 'utf16le');
  const gz = zlib.gzipSync(utf16);
  const cut = gz.subarray(0, gz.length - 200);
  const data = zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const lines = data.subarray(0, data.length - (data.length % 2)).toString('utf16le').split('\n').length - 1;
  const engine = await createEngine();
  for (const [label, input, options] of shapes(cut)) {
    const e = await failure(engine, input(), { name: 'u16.csv.gz', ...options });
    assert.deepEqual([e.code, e.line, e.byte], ['gzip_truncated', lines + 1, data.length], label);
  }
  engine.close();
});

test('GzipFramer: member ends where zlib ends them, for every compressor setting and chunking', () => {
  const frame = (bytes, chunk) => {
    const f = new GzipFramer();
    const members = [];
    let current = [];
    let error = null;
    const take = ({ spans, error: e }) => {
      for (const s of spans) {
        current.push(s.bytes);
        if (s.end) members.push(Buffer.concat(current)), (current = []);
      }
      error ??= e;
    };
    for (let o = 0; o < bytes.length && !error; o += chunk) take(f.push(bytes.subarray(o, o + chunk)));
    if (!error) take(f.finish());
    return { members, rest: Buffer.concat(current), error, output: f.output };
  };
  const text = Buffer.from(CSV.slice(0, 20000));
  const random = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24));
  let checked = 0;
  for (const data of [text, random, Buffer.alloc(0), Buffer.alloc(70000, 'a')]) {
    for (const level of [0, 1, 6, 9]) {
      for (const strategy of [zlib.constants.Z_DEFAULT_STRATEGY, zlib.constants.Z_FILTERED, zlib.constants.Z_HUFFMAN_ONLY,
        zlib.constants.Z_RLE, zlib.constants.Z_FIXED]) {
        const one = zlib.gzipSync(data, { level, strategy });
        const two = Buffer.concat([one, zlib.gzipSync(data.subarray(0, 100), { level, strategy, windowBits: 9 })]);
        for (const chunk of [1, 17, 1 << 20]) {
          const a = frame(one, chunk);
          assert.equal(a.error, null);
          assert.deepEqual([a.members.length, a.rest.length, a.output], [1, 0, data.length]);
          assert.ok(a.members[0].equals(one));
          const b = frame(two, chunk);
          assert.equal(b.error, null);
          assert.deepEqual(b.members.map((m) => m.length), [one.length, two.length - one.length]);
          checked += 2;
        }
      }
    }
  }
  assert.equal(checked, 480);
  // Cut anywhere: 'truncated', and what it counts is what zlib gives out of the same bytes.
  const small = Buffer.concat([zlib.gzipSync(text.subarray(0, 3000)), zlib.gzipSync(text.subarray(3000, 6000), { level: 0 })]);
  for (let keep = 1; keep < small.length; keep++) {
    const cut = small.subarray(0, keep);
    let whole = true;
    try {
      zlib.gunzipSync(cut);
    } catch {
      whole = false;
    }
    for (const chunk of [1, 64]) {
      const r = frame(cut, chunk);
      if (whole) {
        assert.equal(r.error, null, `cut at ${keep}`); // exactly after the first member
        continue;
      }
      assert.equal(r.error?.kind, 'truncated', `cut at ${keep}`);
      assert.equal(r.output, zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).length, `cut at ${keep}`);
    }
  }
  // Damaged anywhere: never refused where zlib reads it, and the same verdict (kind, byte,
  // words) for every chunking.
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const kinds = {};
  for (let k = 0; k < 1500; k++) {
    const bad = Buffer.from(small);
    for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) bad[Math.floor(next() * bad.length)] ^= 1 << Math.floor(next() * 8);
    const verdicts = [1, 7, 64, 1 << 20].map((chunk) => {
      const { error } = frame(bad, chunk);
      return error && `${error.kind} ${error.offset} ${error.message}`;
    });
    assert.deepEqual(new Set(verdicts).size, 1, `${k}: ${verdicts.join(' | ')}`);
    let readable = true;
    try {
      zlib.gunzipSync(bad);
    } catch {
      readable = false;
    }
    // (zlib, like Node, also takes a zero byte and anything after it as padding; the framer
    // takes only zeros.)
    if (readable && verdicts[0]) assert.match(verdicts[0], /^trailing /, `${k}: zlib reads it`);
    const kind = verdicts[0]?.split(' ')[0] ?? 'none';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  assert.ok(kinds.corrupt > 300 && kinds.none > 300 && kinds.truncated > 0, JSON.stringify(kinds));
});

test('a .gz cut short among good files is listed in data_quality.refused; the good ones are analysed', async () => {
  const engine = await createEngine();
  await engine.load('orders', 'order_id,customer_id,order_date,amount\nx1,a,2024-01-05,10\n', { name: 'good.csv' });
  let error = null;
  try {
    await engine.load('orders', GZ.subarray(0, GZ.length - 500), { name: 'cut.csv.gz' });
  } catch (err) {
    error = err;
  }
  assert.equal(error?.code, 'gzip_truncated');
  const r = engine.analyze();
  assert.equal(r.data_quality.tables.orders.files.length, 1);
  assert.deepEqual(r.data_quality.refused, [{ name: 'cut.csv.gz', table: 'orders', reason: error.message,
    reason_code: 'gzip_truncated', reason_params: { line: error.line, column: null } }]);
  engine.close();
});
