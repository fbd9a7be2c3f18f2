// The command line's errors: one line on stderr that names the file, exit code 1, for what
// the system refuses (a directory, a missing file, a folder that does not exist) and what the
// engine refuses; text from the files and the command line printed with its control and bidi
// characters escaped, and a long message cut on a character boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, openSync, ftruncateSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}bin/custlens.js`;
const run = (...args) => spawnSync('node', [cli, 'analyze', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const dir = mkdtempSync(`${tmpdir()}/custlens-cli-`);
const CSV = 'customer_id,order_date,amount\n' + Array.from({ length: 500 }, (_, i) => `c${i % 40},2024-01-${String(1 + (i % 28)).padStart(2, '0')},${i + 1}`).join('\n') + '\n';

// One line on stderr, nothing on stdout, exit 1.
function oneLine(r) {
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n').length, 2, r.stderr); // the line and its newline
  return r.stderr.slice(0, -1);
}

test('CLI: a directory, a missing file or a folder that does not exist is one line naming it, exit 1', () => {
  mkdirSync(`${dir}/somedir`);
  writeFileSync(`${dir}/ok.csv`, CSV);
  assert.equal(oneLine(run('--orders', `${dir}/somedir`)), `custlens: ${dir}/somedir: is a directory, not a file`);
  assert.equal(oneLine(run('--orders', `${dir}/ok.csv`, '--customers-file', `${dir}/somedir`)),
    `custlens: ${dir}/somedir: is a directory, not a file`);
  assert.equal(oneLine(run('--orders', `${dir}/missing.csv`)), `custlens: ${dir}/missing.csv: no such file`);
  assert.equal(oneLine(run('--btyd-summary', `${dir}/missing/summary.csv`)), `custlens: ${dir}/missing/summary.csv: no such file`);
  assert.equal(oneLine(run('--orders', `${dir}/ok.csv/inner.csv`)),
    `custlens: ${dir}/ok.csv/inner.csv: a part of the path is not a directory`);
  assert.equal(oneLine(run('--orders', `${dir}/ok.csv`, '--customers-csv', `${dir}/nowhere/c.csv`)),
    `custlens: ${dir}/nowhere/c.csv: cannot write it: its folder does not exist`);
  assert.equal(oneLine(run('--orders', `${dir}/ok.csv`, '--customers-csv', `${dir}/somedir`)),
    `custlens: ${dir}/somedir: is a directory, not a file`);
  // A pipe is read as a stream.
  writeFileSync(`${dir}/piped.csv`, CSV);
  const piped = spawnSync('sh', ['-c', `cat "${dir}/piped.csv" | node "${cli}" analyze --orders /dev/stdin`], { encoding: 'utf8' });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(JSON.parse(piped.stdout).metrics.orders.value, 500);
});

test('CLI: a .gz cut short or with bytes after its data names the file and the line', () => {
  const gz = zlib.gzipSync(CSV);
  writeFileSync(`${dir}/cut.csv.gz`, gz.subarray(0, gz.length - 100));
  writeFileSync(`${dir}/junk.csv.gz`, Buffer.concat([gz, Buffer.from('<html>')]));
  const cut = zlib.gunzipSync(gz.subarray(0, gz.length - 100), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const lines = cut.toString().split('\n').length - 1;
  assert.deepEqual([gz.length, cut.length, lines], [2027, 8767, 472]);
  assert.equal(oneLine(run('--orders', `${dir}/cut.csv.gz`)),
    'custlens: orders file cut.csv.gz, line 473: The file ends before its compressed data does: it was cut short ' +
    'while downloading or copying. Only the first 8,767 bytes of its data are there, up to line 473 (472 complete ' +
    'lines): download or copy the file again [gzip_truncated]');
  assert.equal(oneLine(run('--orders', `${dir}/junk.csv.gz`)),
    'custlens: orders file junk.csv.gz: The file goes on after the end of its compressed data, from byte 2,027 of ' +
    'the file: something was added to it, or it was damaged, while downloading or copying. The compressed data itself ' +
    'was read in full (9,292 bytes, 501 lines): download or copy the file again, or decompress it yourself and load ' +
    'the CSV [gzip_trailing_data]');
});

test('CLI: out_of_memory names the file', (t) => {
  // A sparse file of a terabyte: the loader sizes its columns from the file's size and runs
  // out of the 4 GiB a wasm memory can have.
  const huge = `${dir}/huge.csv`;
  try {
    writeFileSync(huge, CSV.repeat(20));
    const fd = openSync(huge, 'r+');
    ftruncateSync(fd, 1e12);
    closeSync(fd);
  } catch (err) {
    t.skip(`no sparse terabyte file here (${err.code})`);
    return;
  }
  try {
    const line = oneLine(run('--orders', huge));
    assert.match(line, /^custlens: orders file huge\.csv: Out of memory.* \[out_of_memory\]$/);
  } finally {
    rmSync(huge);
  }
});

test('CLI: control and bidi characters from a file or the command line are printed escaped', () => {
  // A header with ESC (a colour sequence), BEL, a tab, DEL, the C1 CSI, RLO and RLI, and a line
  // break inside a quoted column name.
  writeFileSync(`${dir}/esc.csv`, 'a\x1b[31mred,"b\u202eevil\u2066",c\x07\td\x7f\u009b2J,"e\nf"\n1,2,3,4\n');
  assert.equal(oneLine(run('--orders', `${dir}/esc.csv`)),
    'custlens: orders file esc.csv: No order date column found among: a\\x1b[31mred, b\\u202eevil\\u2066, ' +
    'c\\x07\\x09d\\x7f\\x9b2J, e\\x0af. Name the column holding the order date (mapping: column=order_date) [missing_column]');
  // A file name with a terminal title sequence in it.
  assert.equal(oneLine(run('--orders', `${dir}/x\x1b]0;pwned\x07\u202e.csv`)),
    `custlens: ${dir}/x\\x1b]0;pwned\\x07\\u202e.csv: no such file`);
  const usage = run('--orders', `${dir}/esc.csv`, `--x\x1b[2J\u2067`);
  assert.equal(usage.status, 2);
  assert.equal(usage.stderr.split('\n')[0], 'custlens: unknown option "--x\\x1b[2J\\u2067"');
});

test('CLI: a long message is cut at 1,000 characters, on a character boundary, with an ellipsis', () => {
  const prefix = 'No order date column found among: ';
  // 😀 takes two UTF-16 units: a cut by units would split one.
  writeFileSync(`${dir}/emoji.csv`, `${'😀'.repeat(3000)},b\n1,2\n`);
  const line = oneLine(run('--orders', `${dir}/emoji.csv`));
  assert.equal(line, `custlens: orders file emoji.csv: ${prefix}${'😀'.repeat(1000 - prefix.length)}… [missing_column]`);
  assert.ok(!line.includes('\ufffd'));
  // An escape is never cut: here \x1b would end at character 1,002, so it goes whole.
  writeFileSync(`${dir}/edge.csv`, `${'x'.repeat(1000 - prefix.length - 2)}\x1b${'y'.repeat(50)},b\n1,2\n`);
  assert.equal(oneLine(run('--orders', `${dir}/edge.csv`)),
    `custlens: orders file edge.csv: ${prefix}${'x'.repeat(1000 - prefix.length - 2)}… [missing_column]`);
  // At 1,000 characters exactly nothing is cut.
  const exact = 'z'.repeat(1000 - prefix.length - '. Name the column holding the order date (mapping: column=order_date)'.length);
  writeFileSync(`${dir}/exact.csv`, `${exact}\n1\n`);
  const whole = oneLine(run('--orders', `${dir}/exact.csv`));
  assert.equal(whole, `custlens: orders file exact.csv: ${prefix}${exact}. Name the column holding the order date ` +
    '(mapping: column=order_date) [missing_column]');
});

test('CLI: the report JSON escapes C1 and bidi characters too, and stays the same JSON', () => {
  writeFileSync(`${dir}/ids.csv`, 'customer_id,order_date,amount\n\u202eevil\u009b31m,2024-01-01,10\nb\x1bx\u2028,2024-01-02,5\n');
  const r = run('--orders', `${dir}/ids.csv`, '--customers');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/.test(r.stdout.slice(0, -1)));
  assert.ok(r.stdout.includes('"customer_id":["\\u202eevil\\u009b31m","b\\u001bx\\u2028"]'));
  assert.deepEqual(JSON.parse(r.stdout).customers.customer_id, ['\u202eevil\u009b31m', 'b\x1bx\u2028']);
});

test('CLI: each file stands on its own: a file that cannot be read is refused on stderr and in the report, the others are analysed', () => {
  writeFileSync(`${dir}/good.csv`, CSV);
  writeFileSync(`${dir}/notes.csv`, 'note,comment\nhello,world\n');
  const r = run('--orders', `${dir}/notes.csv`, '--orders', `${dir}/good.csv`, '--orders', `${dir}/gone.csv`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /^custlens: refused orders file notes\.csv: No order date column found .*\[missing_column\]$/);
  assert.equal(lines[1], `custlens: refused ${dir}/gone.csv: no such file`);
  const report = JSON.parse(r.stdout);
  assert.equal(report.metrics.revenue.value, 500 * 501 / 2);
  assert.deepEqual(report.data_quality.refused.map((f) => [f.name, f.table, f.reason_code]),
    [['notes.csv', 'orders', 'missing_column'], ['gone.csv', 'orders', 'cannot_open']]);
  assert.equal(report.data_quality.refused[1].reason, 'no such file');
  // None of them readable: the error of the last, exit 1, as for a single file.
  assert.equal(oneLine(run('--orders', `${dir}/notes.csv`, '--orders', `${dir}/gone.csv`)), `custlens: ${dir}/gone.csv: no such file`);
});

test('CLI: summaries alone, one refused: the report lists it as analyze() would', () => {
  writeFileSync(`${dir}/sum.csv`, 'ID,x,t_x,T\n' + Array.from({ length: 60 }, (_, i) => `${i},${i % 4},${i % 4 ? 10 + (i % 7) : 0},${30 + (i % 9)}`).join('\n') + '\n');
  writeFileSync(`${dir}/notsum.csv`, 'a,b\n1,2\n');
  const r = run('--btyd-summary', `${dir}/sum.csv`, '--btyd-summary', `${dir}/notsum.csv`, '--btyd-summary', `${dir}/nosuch.csv`);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.future.source, 'btyd_summary');
  assert.deepEqual(report.data_quality.refused.map((f) => [f.name, f.table, f.reason_code]),
    [['notsum.csv', 'btyd_summary', 'missing_column'], ['nosuch.csv', 'btyd_summary', 'cannot_open']]);
  assert.equal(report.data_quality.tables.btyd_summary.files.length, 1);
});
