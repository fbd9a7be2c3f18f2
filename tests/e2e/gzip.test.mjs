// .csv.gz in the browser: the package on the served site (its CSP), in headless Chromium, gives
// the same reports and the same errors as in Node, for every chunking and input shape. The
// platforms' DecompressionStreams differ (Chromium refuses a second gzip member or trailing
// zeros, Node 20 reads them; their messages differ); the package must not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { createEngine } from '../../bindings/js/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const site = mkdtempSync(join(tmpdir(), 'custlens-gzip-site-'));
let server, browser, page;

before(async () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-site.mjs'), site], { stdio: 'ignore' });
  server = await serve(site, 0, '127.0.0.1');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

const CSV = 'customer_id,order_date,amount\n' + Array.from({ length: 2000 }, (_, i) =>
  `c${i % 97},2024-0${1 + (i % 9)}-1${i % 9},${(i % 50) + 1}.5`).join('\n') + '\n';
const GZ = zlib.gzipSync(CSV);
const damaged = (at) => {
  const b = Buffer.from(GZ);
  b[at] ^= 0xff;
  return b;
};
const CASES = {
  whole: GZ,
  members: Buffer.concat([zlib.gzipSync(CSV.slice(0, 1000)), zlib.gzipSync(CSV.slice(1000))]),
  zeroPadding: Buffer.concat([GZ, Buffer.alloc(10)]),
  cutInData: GZ.subarray(0, GZ.length - 100),
  cutInTrailer: GZ.subarray(0, GZ.length - 4),
  cutInHeader: GZ.subarray(0, 5),
  trailingGarbage: Buffer.concat([GZ, Buffer.from('garbage')]),
  zeroThenGarbage: Buffer.concat([GZ, Buffer.from([0]), Buffer.from('garbage')]),
  badChecksum: damaged(GZ.length - 6),
  badData: damaged(40),
  engineErrorMidway: readFileSync(join(root, '..', 'shared', 'data', 'example_transactions.csv.gz')),
};

// Runs in Node and in the page (given to page.evaluate, which imports the package there):
// each case in each input shape, what load() gives (the file report, or the error's fields).
async function loadAll(cases, create) {
  const createEngine = create ?? (await import('/custlens/bindings/js/index.js')).createEngine;
  const engine = await createEngine();
  const out = {};
  for (const [name, list] of cases) {
    const bytes = new Uint8Array(list);
    const shapes = {
      chunk1: [bytes, { chunkSize: 1 }], chunk7: [bytes, { chunkSize: 7 }], chunk4096: [bytes, { chunkSize: 4096 }],
      whole: [bytes, {}], blob: [new Blob([bytes]), {}], stream: [new Blob([bytes]).stream(), {}],
      iterable: [[new Uint8Array(0), bytes.subarray(0, 1), bytes.subarray(1)], {}],
    };
    const results = new Set();
    for (const [shape, [data, options]] of Object.entries(shapes)) {
      if (bytes.length > 20000 && shape === 'chunk1') continue;
      try {
        const f = await engine.load('orders', data, { name: `${name}.csv.gz`, ...options });
        results.add(JSON.stringify(f));
        engine.reset();
      } catch (e) {
        results.add(JSON.stringify({ error: e.name, code: e.code, table: e.table, file: e.file, line: e.line,
          byte: e.byte, message: e.message }));
      }
    }
    out[name] = [...results];
  }
  engine.close();
  return out;
}

test('Chromium reads .gz like Node: the same reports and errors, for every chunking and input shape', async () => {
  const cases = Object.entries(CASES).map(([k, v]) => [k, [...v]]);
  const inNode = await loadAll(cases, createEngine);
  const inBrowser = await page.evaluate(loadAll, cases);
  assert.deepEqual(inBrowser, inNode);
  // One result per case: every shape gave the same.
  for (const [name, results] of Object.entries(inNode)) assert.equal(results.length, 1, `${name}: ${results.join('\n')}`);
  const one = (name) => JSON.parse(inBrowser[name][0]);
  assert.equal(one('whole').rows_read, 2000);
  assert.equal(inBrowser.members[0], inBrowser.whole[0].replace('"whole.csv.gz"', '"members.csv.gz"'));
  assert.equal(inBrowser.zeroPadding[0], inBrowser.whole[0].replace('"whole.csv.gz"', '"zeroPadding.csv.gz"'));
  const cut = zlib.gunzipSync(CASES.cutInData, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const lines = cut.toString().split('\n').length - 1;
  assert.deepEqual(one('cutInData'), {
    error: 'CustlensError', code: 'gzip_truncated', table: 'orders', file: 'cutInData.csv.gz', line: lines + 1, byte: cut.length,
    message: 'The file ends before its compressed data does: it was cut short while downloading or copying. Only the first ' +
      `${cut.length.toLocaleString('en-US')} bytes of its data are there, up to line ${(lines + 1).toLocaleString('en-US')} ` +
      `(${lines.toLocaleString('en-US')} complete lines): download or copy the file again`,
  });
  assert.deepEqual([one('cutInTrailer').code, one('cutInTrailer').byte, one('cutInTrailer').line],
    ['gzip_truncated', Buffer.byteLength(CSV), 2002]);
  assert.deepEqual([one('cutInHeader').code, one('cutInHeader').byte, one('cutInHeader').line], ['gzip_truncated', 0, 1]);
  for (const name of ['trailingGarbage', 'zeroThenGarbage']) {
    assert.equal(one(name).code, 'gzip_trailing_data');
    assert.match(one(name).message, new RegExp(`^The file goes on after the end of its compressed data, from byte ${GZ.length.toLocaleString('en-US')} of the file:`));
  }
  assert.equal(one('badChecksum').code, 'bad_gzip');
  assert.match(one('badChecksum').message, /its checksum does not match the data/);
  assert.equal(one('badData').code, 'bad_gzip');
  assert.equal(one('engineErrorMidway').code, 'missing_column');
});
