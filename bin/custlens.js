#!/usr/bin/env node
// custlens command line: the same engine as the page and the npm API.
//   custlens analyze [--file FILE ...] [--table KIND --file FILE] [--orders FILE ...] [--customers-file FILE ...]
//     [--customers-map column=field ...] [--period month|quarter|year]
//     [--as-of YYYY-MM-DD] [--lapse-days N] [--date-order dmy|mdy] [--delimiter C]
//     [--map column=field ...] [--encoding E] [--replace-invalid] [--quotes strict|lenient]
//     [--escape double|backslash] [--header-line N] [--decimal-mark dot|comma]
//     [--customers] [--customers-csv FILE] [--pretty]
//     [--predict] [--model bg_nbd|mbg_nbd|pareto_nbd] [--time-unit days|weeks|months]
//     [--horizon-months N] [--margin X] [--discount-rate X] [--calibration-end auto|none|DATE]
//     [--btyd-summary FILE [--summary-time-unit U]] [--predictions]
// Prints the report JSON on stdout (--customers-csv also writes the per-customer table as
// CSV, escaped for spreadsheets); bad input exits 1 with one line on stderr, naming the file.
// Text from the files (column names, cells quoted in messages) and from the command line is
// printed with its control and bidi characters escaped (\x1b, \u202e), so it cannot drive the
// terminal or reorder the line; a message is cut at 1,000 characters.
// --customers-file loads a customers table (signup/end dates, churned flag; Telco's churn
// file): it adds churned_share and data_quality.tables.customers. (--customers is not it:
// that flag prints the per-customer table computed from the orders.)
import { createReadStream, openAsBlob, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createEngine, CustlensError } from '../bindings/js/index.js';

const USAGE = `usage: custlens analyze [--file FILE ...] [--orders FILE ...] [--customers-file FILE ...]
         [--customers-map column=field ...] [--period month|quarter|year]
         [--as-of YYYY-MM-DD] [--lapse-days N] [--date-order dmy|mdy] [--delimiter C]
         [--map column=field ...] [--encoding E] [--replace-invalid] [--quotes strict|lenient]
         [--escape double|backslash] [--header-line N] [--decimal-mark dot|comma]
         [--customers] [--customers-csv FILE] [--pretty]
         [--predict] [--model bg_nbd|mbg_nbd|pareto_nbd] [--time-unit days|weeks|months]
         [--horizon-months N] [--margin X] [--discount-rate X] [--calibration-end auto|none|YYYY-MM-DD]
         [--btyd-summary FILE [--summary-time-unit days|weeks|months]] [--predictions]
  --file FILE      any file: its header says whether it is orders, customers or a BTYD summary
                     (data_quality.tables.<table>.files[].classification says which and why)
  --table KIND     orders, customers, btyd_summary or auto: the table of the next --file only
  --encoding       auto (default), utf-8, gb18030 (gbk), utf-16le, utf-16be, windows-1252, latin1
  --replace-invalid  bytes that are not valid in the encoding become U+FFFD (counted) instead of an error
  --quotes lenient   a stray quote inside a quoted field is kept as text (counted)
  --escape backslash \\" inside quoted fields is a quote (MySQL/PHP exports)
  --header-line N    the header is line N; the lines above it are skipped
  --customers-file FILE  a customers table (customer_id, signup/end dates, churned flag); with it,
                     --orders may be left out. --map applies to the orders files, --customers-map to these
  --customers        print the per-customer table computed from the orders (not the customers file)
  --predict          fit the repeat-purchase and spend models: adds "future" (CLV, P(alive), value at
                     risk, churn risk, the holdout check); --model, --time-unit ... imply it
  --btyd-summary FILE  per-customer summaries (btyd_frequency, t_x, T, btyd_monetary, weight) to fit
                     the models on directly; t_x and T in --summary-time-unit (default weeks)
  --predictions      print the per-customer predictions too`;

// Characters that must not reach a terminal raw: C0 controls (tab and line breaks too: a
// message is one line), DEL and C1 controls as \xHH; the bidi controls (embeddings,
// overrides, isolates, marks) and the line/paragraph separators as \uHHHH, as are lone
// surrogates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;
const hex = (c, n) => c.toString(16).padStart(n, '0');

/** `text` as it can be printed on a terminal: escaped, and cut after `max` characters
 *  (code points; an escape counts as its length) with an ellipsis, never inside a character
 *  or an escape. */
export function printable(text, max = 1000) {
  const s = String(text);
  let out = '';
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    const p = !UNSAFE.test(ch) ? ch : c < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
    const width = p === ch ? 1 : p.length;
    if (n + width > max) return `${out}…`;
    out += p;
    n += width;
  }
  return out;
}

// The report's JSON with the characters above that JSON.stringify leaves raw (DEL, C1, bidi,
// U+2028/U+2029) written as \uHHHH: the same JSON value, safe on a terminal.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
export const safeJson = (json) => json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);

function usage(msg) {
  if (msg) process.stderr.write(`custlens: ${printable(msg)}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

export function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') usage();
  if (command !== 'analyze') usage(command ? `unknown command "${command}"` : 'missing command');
  const o = { files: [], orders: [], customersFiles: [], map: {}, customersMap: {}, analyze: {}, load: {}, customers: false,
    customersCsv: null, pretty: false, predict: null, summaries: [], summaryUnit: null, predictions: false };
  const predict = () => (o.predict ??= {});
  const number = (flag, v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) usage(`${flag} takes a number, not "${v}"`);
    return n;
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) usage(`${flag} needs a value`);
      return rest[++i];
    };
    switch (flag) {
      case '--orders': o.orders.push(value()); break;
      case '--file': o.files.push({ path: value(), table: o.nextTable ?? 'auto' }); o.nextTable = null; break;
      case '--table': {
        const v = value();
        if (!['orders', 'customers', 'btyd_summary', 'auto'].includes(v))
          usage(`--table takes orders, customers, btyd_summary or auto, not "${v}"`);
        if (o.nextTable) usage(`--table ${o.nextTable} has no --file after it`);
        o.nextTable = v;
        break;
      }
      case '--period': o.analyze.period = value(); break;
      case '--as-of': o.analyze.asOf = value(); break;
      case '--lapse-days': {
        const v = value();
        if (!/^\d+$/.test(v)) usage(`--lapse-days takes a whole number of days, not "${v}"`);
        o.analyze.lapseDays = Number(v);
        break;
      }
      case '--date-order': o.load.dateOrder = value(); break;
      case '--delimiter': o.load.delimiter = value(); break;
      case '--encoding': o.load.encoding = value(); break;
      case '--replace-invalid': o.load.invalid = 'replace'; break;
      case '--quotes': o.load.quotes = value(); break;
      case '--escape': o.load.escape = value(); break;
      case '--decimal-mark': o.load.decimalMark = value(); break;
      case '--header-line': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) usage('--header-line takes a line number >= 1');
        o.load.headerLine = n;
        break;
      }
      case '--map':
      case '--customers-map': {
        const v = value();
        const eq = v.lastIndexOf('=');
        if (eq <= 0 || eq === v.length - 1) usage(`${flag} takes column=field, not "${v}"`);
        (flag === '--map' ? o.map : o.customersMap)[v.slice(eq + 1)] = v.slice(0, eq); // field -> column
        break;
      }
      case '--customers-file': o.customersFiles.push(value()); break;
      case '--customers': o.customers = true; break;
      case '--customers-csv': o.customersCsv = value(); break;
      case '--pretty': o.pretty = true; break;
      case '--predict': predict(); break;
      case '--model': predict().model = value(); break;
      case '--time-unit': predict().timeUnit = value(); break;
      case '--horizon-months': {
        const v = value();
        if (!/^\d+$/.test(v)) usage(`--horizon-months takes a whole number of months, not "${v}"`);
        predict().horizonMonths = Number(v);
        break;
      }
      case '--margin': predict().margin = number(flag, value()); break;
      case '--discount-rate': predict().discountRate = number(flag, value()); break;
      case '--calibration-end': predict().calibrationEnd = value(); break;
      case '--btyd-summary': o.summaries.push(value()); predict(); break;
      case '--summary-time-unit': o.summaryUnit = value(); break;
      case '--predictions': o.predictions = true; predict(); break;
      default: usage(`unknown option "${flag}"`);
    }
  }
  if (o.nextTable) usage(`--table ${o.nextTable} has no --file after it`);
  if (o.files.length === 0 && o.orders.length === 0 && o.customersFiles.length === 0 && o.summaries.length === 0)
    usage('--file FILE or --orders FILE is required (or --customers-file FILE, or --btyd-summary FILE)');
  return o;
}

// A file the system would not give: named as given on the command line.
class FileError extends Error {
  constructor(path, reason) {
    super(`${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

// What went wrong with a file, in words, from the system's error (or the Blob's).
function fileProblem(err, writing) {
  switch (err?.code) {
    case 'ENOENT': return writing ? 'cannot write it: its folder does not exist' : 'no such file';
    case 'EISDIR': return 'is a directory, not a file';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EACCES': case 'EPERM': return `cannot ${writing ? 'write' : 'read'} it: permission denied`;
    case 'ELOOP': return 'cannot open it: too many symbolic links';
    case 'ENAMETOOLONG': return 'the name is too long';
    case 'EMFILE': case 'ENFILE': return 'cannot open it: too many open files';
    case 'EIO': return `cannot ${writing ? 'write' : 'read'} it: input/output error (a disk or network problem)`;
    case 'ENOSPC': return 'cannot write it: the disk is full';
    case 'EROFS': return 'cannot write it: the file system is read-only';
    default:
      if (err?.name === 'NotReadableError') return 'cannot read it: it changed or went away while it was being read';
      return `cannot ${writing ? 'write' : 'read'} it${err?.code ? ` (${err.code})` : ''}`;
  }
}

const isSystemError = (err) => typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code) && !!err.syscall;

// A regular file is read as a Blob (read twice if need be: a .gz's checks are then free);
// anything else (a pipe, a device) as a stream.
async function open(path) {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new FileError(path, fileProblem(err, false));
  }
  if (st.isDirectory()) throw new FileError(path, fileProblem({ code: 'EISDIR' }, false));
  if (st.isFile()) {
    try {
      return await openAsBlob(path);
    } catch {
      // not readable as a Blob: the stream says why
    }
  }
  return createReadStream(path);
}

// Loads one file; an error of the system (or of the engine that did not say which file)
// names it.
async function loadFile(engine, table, path, options) {
  try {
    return await engine.load(table, await open(path), { ...options, name: basename(path) });
  } catch (err) {
    if (err instanceof CustlensError) {
      err.table ??= table;
      err.file ??= basename(path);
      throw err;
    }
    if (err instanceof FileError) throw err;
    if (isSystemError(err) || err?.name === 'NotReadableError') throw new FileError(path, fileProblem(err, false));
    throw err;
  }
}

function describe(err) {
  if (err instanceof FileError) return `${printable(err.path, 300)}: ${err.reason}`;
  if (!(err instanceof CustlensError)) return printable(err?.message ?? err);
  const file = err.file == null ? null : printable(err.file, 300);
  const table = err.table === 'auto' ? null : err.table;  // a file whose table was not known yet
  const where = [file ? `${table ? `${table} file` : 'file'} ${file}` : table && `${table} file`,
    err.line && `line ${err.line}`, err.column && `column ${err.column}`].filter(Boolean).join(', ');
  return `${where ? `${where}: ` : ''}${printable(err.message)} [${printable(err.code, 100)}]`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const engine = await createEngine();
  // Each file stands on its own: one that cannot be read is said on stderr and listed in
  // data_quality.refused, and the others are analysed. Only when no file of a table loads is
  // that an error (exit status 1), as it always was for a single file.
  const refused = [];       // files the engine never saw (they could not be opened)
  const failures = [];
  const tryLoad = async (table, file, options) => {
    try {
      return await loadFile(engine, table, file, options);
    } catch (err) {
      if (!(err instanceof CustlensError) && !(err instanceof FileError)) throw err;
      failures.push(err);
      if (err instanceof FileError)
        refused.push({ name: basename(err.path), table, reason: err.reason, reason_code: 'cannot_open',
          reason_params: { line: null, column: null } });
      return null;
    }
  };
  const loadAll = async (table, files, options) => {
    const reports = [];
    for (const file of files) {
      const r = await tryLoad(table, file, options);
      if (r) reports.push(r);
    }
    if (files.length && !reports.length) throw failures[failures.length - 1];
    return reports;
  };
  const orderOptions = { ...o.load };
  if (Object.keys(o.map).length) orderOptions.mapping = o.map;
  await loadAll('orders', o.orders, orderOptions);
  const customerOptions = { ...o.load };
  if (Object.keys(o.customersMap).length) customerOptions.mapping = o.customersMap;
  await loadAll('customers', o.customersFiles, customerOptions);
  const summaryOptions = { ...o.load };
  if (o.summaryUnit) summaryOptions.timeUnit = o.summaryUnit;
  const summaryFiles = await loadAll('btyd_summary', o.summaries, summaryOptions);
  // --file: each file's header says its table (or --table did); --map and the summary unit
  // go along, each table taking what is its own.
  const fileReports = [];
  for (const f of o.files) {
    const options = { ...o.load };
    if (Object.keys(o.map).length) options.mapping = o.map;
    if (o.summaryUnit && (f.table === 'auto' || f.table === 'btyd_summary')) options.timeUnit = o.summaryUnit;
    const r = await tryLoad(f.table, f.path, options);
    if (r) fileReports.push(r);
  }
  if (o.files.length && !fileReports.length && !o.orders.length && !o.customersFiles.length && !o.summaries.length)
    throw failures[failures.length - 1];
  const loadedAs = (table) => fileReports.filter((r) => r.classification?.table === table);
  summaryFiles.push(...loadedAs('btyd_summary'));
  // The run goes on: say which files were left out.
  for (const err of failures) process.stderr.write(`custlens: refused ${describe(err)}\n`);
  const ordersLoaded = o.orders.length > 0 || loadedAs('orders').length > 0;
  const analysed = ordersLoaded || o.customersFiles.length > 0 || loadedAs('customers').length > 0;
  // Summaries alone are there to fit the models on (as --btyd-summary implies --predict).
  if (!analysed && summaryFiles.length) o.predict ??= {};
  const report = analysed ? engine.analyze(o.analyze) : {};
  if (analysed) {
    report.data_quality.refused.push(...refused);
  } else if (failures.length) {
    // No analysis to report them (summaries alone): the refused files as analyze() lists them.
    report.data_quality = { tables: {}, refused: failures.map((err) => (err instanceof FileError ? refused.shift()
      : { name: err.file, table: err.table, reason: err.message, reason_code: err.code,
        reason_params: { line: err.line ?? null, column: err.column ?? null } })) };
  }
  // analyze() reports the orders and customers tables; the summaries' row accounting
  // (read = used + rejected + skipped, per file) is what load() returned.
  if (summaryFiles.length) {
    report.data_quality ??= { tables: {} };
    report.data_quality.tables ??= {};
    report.data_quality.tables.btyd_summary = { files: summaryFiles };
  }
  if (o.predict) {
    const options = { ...o.predict };
    if (summaryFiles.length && !ordersLoaded) options.source = 'btyd_summary';
    report.future = engine.predict(options);
    if (o.predictions) {
      const p = engine.predictions();
      report.predictions = Object.fromEntries(Object.entries(p).map(([k, v]) => [k,
        ArrayBuffer.isView(v) ? Array.from(v, (x) => (Number.isFinite(x) ? x : null)) : v]));
    }
  }
  if (o.customers) {
    const c = engine.customers();
    report.customers = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v) : v]));
  }
  if (o.customersCsv) {
    try {
      writeFileSync(o.customersCsv, engine.customersCsv());
    } catch (err) {
      if (!isSystemError(err)) throw err;
      throw new FileError(o.customersCsv, fileProblem(err, true));
    }
  }
  process.stdout.write(`${safeJson(JSON.stringify(report, null, o.pretty ? 2 : 0))}\n`);
}

main().catch((err) => {
  process.stderr.write(`custlens: ${describe(err)}\n`);
  process.exit(1);
});
