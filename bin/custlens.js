#!/usr/bin/env node
// custlens command line: the same engine as the page and the npm API.
//   custlens analyze --orders FILE [--orders FILE ...] [--customers-file FILE ...]
//     [--customers-map column=field ...] [--period month|quarter|year]
//     [--as-of YYYY-MM-DD] [--lapse-days N] [--date-order dmy|mdy] [--delimiter C]
//     [--map column=field ...] [--encoding E] [--replace-invalid] [--quotes strict|lenient]
//     [--escape double|backslash] [--header-line N] [--decimal-mark dot|comma]
//     [--customers] [--customers-csv FILE] [--pretty]
//     [--predict] [--model bg_nbd|mbg_nbd|pareto_nbd] [--time-unit days|weeks|months]
//     [--horizon-months N] [--margin X] [--discount-rate X] [--calibration-end auto|none|DATE]
//     [--btyd-summary FILE [--summary-time-unit U]] [--predictions]
// Prints the report JSON on stdout (--customers-csv also writes the per-customer table as
// CSV, escaped for spreadsheets); bad input exits 1 with one line on stderr.
// --customers-file loads a customers table (signup/end dates, churned flag; Telco's churn
// file): it adds churned_share and data_quality.tables.customers. (--customers is not it:
// that flag prints the per-customer table computed from the orders.)
import { createReadStream, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createEngine, CustlensError } from '../bindings/js/index.js';

const USAGE = `usage: custlens analyze --orders FILE [--orders FILE ...] [--customers-file FILE ...]
         [--customers-map column=field ...] [--period month|quarter|year]
         [--as-of YYYY-MM-DD] [--lapse-days N] [--date-order dmy|mdy] [--delimiter C]
         [--map column=field ...] [--encoding E] [--replace-invalid] [--quotes strict|lenient]
         [--escape double|backslash] [--header-line N] [--decimal-mark dot|comma]
         [--customers] [--customers-csv FILE] [--pretty]
         [--predict] [--model bg_nbd|mbg_nbd|pareto_nbd] [--time-unit days|weeks|months]
         [--horizon-months N] [--margin X] [--discount-rate X] [--calibration-end auto|none|YYYY-MM-DD]
         [--btyd-summary FILE [--summary-time-unit days|weeks|months]] [--predictions]
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

function usage(msg) {
  if (msg) process.stderr.write(`custlens: ${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

export function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') usage();
  if (command !== 'analyze') usage(command ? `unknown command "${command}"` : 'missing command');
  const o = { orders: [], customersFiles: [], map: {}, customersMap: {}, analyze: {}, load: {}, customers: false,
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
  if (o.orders.length === 0 && o.customersFiles.length === 0 && o.summaries.length === 0)
    usage('--orders FILE is required (or --customers-file FILE, or --btyd-summary FILE)');
  return o;
}

function describe(err) {
  if (!(err instanceof CustlensError)) return err.message;
  const where = [err.table && `${err.table} file ${err.file ?? ''}`.trim(), err.line && `line ${err.line}`,
    err.column && `column ${err.column}`].filter(Boolean).join(', ');
  return `${where ? `${where}: ` : ''}${err.message} [${err.code}]`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const engine = await createEngine();
  for (const file of o.orders) {
    const options = { ...o.load, name: basename(file) };
    if (Object.keys(o.map).length) options.mapping = o.map;
    await engine.load('orders', createReadStream(file), options);
  }
  for (const file of o.customersFiles) {
    const options = { ...o.load, name: basename(file) };
    if (Object.keys(o.customersMap).length) options.mapping = o.customersMap;
    await engine.load('customers', createReadStream(file), options);
  }
  const summaryFiles = [];
  for (const file of o.summaries) {
    const options = { ...o.load, name: basename(file) };
    if (o.summaryUnit) options.timeUnit = o.summaryUnit;
    summaryFiles.push(await engine.load('btyd_summary', createReadStream(file), options));
  }
  const analysed = o.orders.length > 0 || o.customersFiles.length > 0;
  const report = analysed ? engine.analyze(o.analyze) : {};
  // analyze() reports the orders and customers tables; the summaries' row accounting
  // (read = used + rejected + skipped, per file) is what load() returned.
  if (summaryFiles.length) {
    report.data_quality ??= { tables: {} };
    report.data_quality.tables ??= {};
    report.data_quality.tables.btyd_summary = { files: summaryFiles };
  }
  if (o.predict) {
    const options = { ...o.predict };
    if (o.summaries.length && o.orders.length === 0) options.source = 'btyd_summary';
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
  if (o.customersCsv) writeFileSync(o.customersCsv, engine.customersCsv());
  process.stdout.write(`${JSON.stringify(report, null, o.pretty ? 2 : 0)}\n`);
}

main().catch((err) => {
  const msg = err.code === 'ENOENT' ? `cannot read ${err.path}: no such file` : describe(err);
  process.stderr.write(`custlens: ${msg.replace(/\n/g, ' ')}\n`);
  process.exit(1);
});
