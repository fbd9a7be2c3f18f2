// Type declarations of the custlens package (bindings/js/index.js).

export declare const SEGMENT_NAMES: readonly string[];
/** Lifecycle stages at asOf, in the order of their precedence (metrics.md section 3). */
export declare const LIFECYCLE_STAGES: readonly LifecycleStage[];
export type LifecycleStage = 'lapsed' | 'new' | 'reactivated' | 'at_risk' | 'active';

/** An error from the engine: bad input names the table, file, line and column. */
export declare class CustlensError extends Error {
  readonly code: string;
  readonly table: string | null;
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  readonly byte: number | null;
}

export interface CreateEngineOptions {
  /** The bytes of custlens.wasm (read them yourself where fetch cannot reach the file). */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Where to fetch custlens.wasm (default: next to dist/custlens.mjs). */
  wasmUrl?: string | URL;
}

export type TableName = 'orders' | 'customers' | 'btyd_summary';
/** load()'s table: a table, or 'auto' (the file's header says which; FileReport.classification). */
export type LoadTable = TableName | 'auto';
export type Field =
  | 'order_id' | 'customer_id' | 'order_date' | 'amount' | 'quantity' | 'unit_price'
  | 'refunded_amount' | 'status' | 'channel' | 'product' | 'category' | 'cost' | 'paid_at' | 'currency';
/** Fields of the customers table (load('customers', ...)). */
export type CustomerField =
  | 'customer_id' | 'signup_date' | 'end_date' | 'churned' | 'tenure_months' | 'monthly_charges' | 'total_charges';
/** Fields of the btyd_summary table (load('btyd_summary', ...)): per-customer summaries for the models. */
export type SummaryField = 'customer_id' | 'btyd_frequency' | 't_x' | 'T' | 'btyd_monetary' | 'weight';
export type TimeUnit = 'days' | 'weeks' | 'months';

export interface LoadOptions {
  /** The file's name, used in messages and the data-quality report. */
  name?: string;
  /** field -> column (header name or 1-based position); '' or null unmaps a field. */
  mapping?: Partial<Record<Field | CustomerField | SummaryField, string | number | null>>;
  /** btyd_summary only: the unit of t_x and T in the file (default 'weeks', with a warning). */
  timeUnit?: TimeUnit;
  /** ',', ';', '\t' or 'tab', '|', 'whitespace'; default: detected. */
  delimiter?: string;
  /** Whether the first row is a header; default: detected. */
  header?: boolean;
  /** The header's physical line (1-based); the lines above it are skipped. Default: detected. */
  headerLine?: number;
  /** 'auto' (default: BOM, UTF-8, or GB18030 when the text reads as Chinese), 'utf-8',
   *  'gb18030' ('gbk'), 'utf-16le', 'utf-16be', 'windows-1252', 'latin1'. */
  encoding?: string;
  /** 'error' (default): the first invalid byte stops the load; 'replace': U+FFFD, counted. */
  invalid?: 'error' | 'replace';
  /** 'strict' (default, RFC 4180) or 'lenient': stray quotes in quoted fields are text. */
  quotes?: 'strict' | 'lenient';
  /** 'double' (default, "") or 'backslash' (\" inside quoted fields, MySQL/PHP). */
  escape?: 'double' | 'backslash';
  /** Day/month order of dates like 1/12/2010; default: inferred from the whole column. */
  dateOrder?: 'dmy' | 'mdy';
  /** Decimal mark for columns holding only "1,234"-like values; default: inferred. */
  decimalMark?: 'dot' | 'comma';
  /** The amount already has refunds taken off (then refunded_amount is not subtracted). */
  amountIsNet?: boolean;
  /** The file's size in bytes, so the engine sizes its tables once (set for you for bytes and Blobs). */
  sizeHint?: number;
  /** Bytes per chunk fed to the engine (default 1 MiB). */
  chunkSize?: number;
  /** `bytes`: CSV bytes fed so far; `input`: bytes read from `data` (compressed for .gz); `total`: size of `data` when known. */
  onProgress?: (p: { bytes: number; input: number; total: number | null }) => void;
}

export interface Tally { reason: string; count: number; lines: number[] }
export interface Warning { code: string; message: string; count: number; lines: number[] }
export interface ColumnMapping { field: Field; column: string | null; index: number | null; source: string; reason: string }

export interface FileReport {
  name: string;
  /** Which table the file went to and why: scored from its header with load('auto') (score 0..1), else chosen (score null). */
  classification: { table: TableName; profile: null; score: number | null; reason: string };
  rows_read: number;
  rows_used: number;
  rows_rejected: number;
  rows_skipped: number;
  rejected: Tally[];
  skipped: Tally[];
  duplicate_lines: { count: number; lines: number[] };
  format: {
    encoding: string; delimiter: string; delimiter_source: string; header: boolean;
    header_source: string; columns: string[];
    line_endings: { lf: number; crlf: number; cr: number; crcrlf: number };
    date_order: string; date_order_source: string; decimal_mark: string;
  };
  mapping: ColumnMapping[];
  warnings: Warning[];
}

export interface AnalyzeOptions {
  period?: 'month' | 'quarter' | 'year';
  /** 'YYYY-MM-DD'; default: the last order date. */
  asOf?: string;
  lapseDays?: number;
  excludeStatuses?: string[];
  includeStatuses?: string[];
}

export interface MetricResult {
  value: number | null;
  unit: 'count' | 'currency' | 'ratio' | 'multiple' | 'score' | 'days' | 'hours' | 'years';
  formula: string;
  inputs: Record<string, number>;
  reason?: string;
}

export interface SeriesPoint { period: string; value: number | null; partial: boolean; reason?: string }

/** A point of a flow series: also warm_up, and for retention_rate / churn_rate the inputs
 *  (with the textbook (E − N) / S and (S − E) / S). */
export interface FlowPoint extends SeriesPoint { warm_up: boolean; inputs?: Record<string, number | null> }

export interface CohortMatrix {
  size: number[];
  active: number[][];
  revenue: number[][];
  /** active / size (null for an empty cohort). */
  share: (number | null)[][];
  /** revenue / size (null for an empty cohort). */
  revenue_per_customer: (number | null)[][];
  definition: string;
}

export interface Flow {
  base: 'transactional' | 'subscription';
  lapse_days: number;
  definition: string;
  whole_range: {
    start: string; end: string; warm_up: boolean;
    customers_start: number; customers_end: number; new_customers: number; new_in_base: number;
    retained: number; reactivated: number; lost: number;
  };
  /** customers_start, customers_end, new_customers, new_in_base, retained, reactivated, lost,
   *  retention_rate, churn_rate, customer_growth_rate, net_customer_additions. */
  series: Record<string, { unit: string; formula: string; points: FlowPoint[] }>;
  lifecycle: { as_of: string; stages: { stage: LifecycleStage; customers: number }[]; rules: string; p_alive: string };
}

export interface Report {
  schema: string;
  engine: { name: string; version: string };
  period: null | {
    granularity: 'month' | 'quarter' | 'year'; first_date: string; as_of: string; as_of_source: string;
    lapse_days: number; periods: { id: string; start: string; end: string; partial: boolean }[];
  };
  data_quality: {
    tables: {
      orders: Record<string, unknown> & { files: FileReport[]; rows_read: number; rows_used: number; rows_rejected: number; rows_skipped: number };
      /** Present when a customers file was loaded (docs/report-schema.md). */
      customers?: Record<string, unknown> & { files: FileReport[]; rows_read: number; rows_used: number; rows_rejected: number; rows_skipped: number };
    };
    /** Present when no usable order row was left: nothing could be computed. */
    empty?: string;
    /** Files whose load failed since the last reset(); the others are analysed. */
    refused: { name: string; table: string; reason: string; reason_code: string; reason_params: { line: number | null; column: number | null } }[];
  };
  metrics: Record<string, MetricResult>;
  series: Record<string, { unit: string; points: SeriesPoint[] }>;
  segments: Record<string, unknown>;
  monthly_active_customers?: { months: string[]; values: number[] };
  cohorts?: {
    acquisition: CohortMatrix & { months: string[] };
    acquisition_quarter: CohortMatrix & { quarters: string[] };
  };
  /** The customer flow: present when a customer column was mapped. */
  flow?: Flow;
  breakdowns?: {
    channel?: BreakdownRow[];
    /** Present when amounts state a currency; with several, money metrics are null. */
    currency?: BreakdownRow[];
  };
}

export interface BreakdownRow { value: string | null; orders: number; returns: number; revenue: number }

export interface Customers {
  count: number;
  customer_id: string[];
  first_purchase: string[];
  last_purchase: string[];
  segment: string[];
  cohort: string[];
  /** Lifecycle stage at asOf (metrics.md section 3). */
  lifecycle: LifecycleStage[];
  orders: Uint32Array;
  total_spend: Float64Array;
  mean_order_value: Float64Array;
  repeat_spend: Float64Array;
  recency_days: Int32Array;
  r_score: Uint8Array;
  f_score: Uint8Array;
  m_score: Uint8Array;
  btyd_frequency: Uint32Array;
  t_x: Int32Array;
  T: Int32Array;
  btyd_monetary: Float64Array;
}

export type ModelId = 'bg_nbd' | 'mbg_nbd' | 'pareto_nbd';

export interface PredictOptions {
  /** The repeat-purchase model (default 'bg_nbd'). */
  model?: ModelId;
  /** The models' time unit (default 'weeks', as the papers). */
  timeUnit?: TimeUnit;
  /** H of clv_predicted, in months (default 12). */
  horizonMonths?: number;
  /** Gross margin applied to the predicted revenue, in (0, 1] (default 1: revenue CLV). */
  margin?: number;
  /** Monthly discount rate d (default 0.01). */
  discountRate?: number;
  /** 'auto' (default: the middle day of the data), 'none', or a date: the holdout check's calibration end. */
  calibrationEnd?: 'auto' | 'none' | string;
  /** Length of the top-customer and value-at-risk lists (default 25). */
  top?: number;
  /** Fit on the analysed orders (default after analyze()) or on the btyd_summary table. */
  source?: 'orders' | 'btyd_summary';
  /** Hears each step of the fits as it starts; `done` is the share of the work done before it, 0..1. */
  onProgress?: (p: PredictProgress) => void;
}

export interface PredictProgress {
  /** 'fit': a repeat-purchase model on all the data; 'spend': Gamma-Gamma; 'predict': every customer; 'holdout': the calibration fit and check. */
  step: 'fit' | 'spend' | 'predict' | 'holdout';
  model: ModelId | null;
  done: number;
}

export interface ModelFit {
  model: ModelId | 'gamma_gamma';
  ok: boolean;
  converged: boolean;
  params: Record<string, number | null>;
  standard_errors: Record<string, number | null>;
  log_likelihood: number | null;
  iterations: number;
  evaluations: number;
  starts: number;
  warnings: string[];
  customers?: number;
  distinct_histories?: number;
  reason?: string;
}

export interface Histogram { edges: number[]; counts: number[] }

export interface FutureRow {
  customer_id: string;
  clv_predicted: number | null;
  p_alive: number | null;
  expected_purchases: number | null;
  expected_order_value: number | null;
  value_at_risk: number | null;
  churn_risk?: number;
  orders?: number; total_spend?: number; last_purchase?: string; recency_days?: number;
  btyd_frequency?: number; weight?: number;
}

export interface HoldoutCheck {
  done: boolean;
  reason?: string;
  calibration_end?: string;
  holdout_end?: string;
  holdout_length?: number;
  customers?: number;
  calibration_repeat_buyers?: number;
  fit?: ModelFit;
  actual?: number;
  predicted?: number | null;
  mae?: number | null;
  bias?: number | null;
  by_frequency?: { calibration_frequency: string; customers: number; actual_mean: number; predicted_mean: number }[];
  over_time?: { step_days: number; dates: string[]; cumulative_actual: number[]; cumulative_predicted: (number | null)[] };
  verdict?: 'trustworthy' | 'rough' | 'not_enough_data';
  verdict_reason?: string;
}

/** Does the fit behind the predictions hold (docs/models.md, "Does the model fit?"). */
export type FutureVerdict = 'trustworthy' | 'rough' | 'not_enough_data' | 'does_not_fit';

/** The result of predict() (docs/report-schema.md, "future"). */
export interface Future {
  source: 'orders' | 'btyd_summary';
  /** The model that gives the predictions (another than model_requested when that one did not hold). */
  model: ModelId;
  model_requested: ModelId;
  /** With 'does_not_fit' the numbers are the requested model's, not predictions: show them only behind that warning. */
  verdict: FutureVerdict;
  verdict_reason: string;
  fit_attempts: { model: ModelId; holds: boolean; reason: string | null; log_likelihood: number | null; evaluations: number }[];
  stopped_buyers: { rule: string; lapse_days: number; customers: number; mean_p_alive: number | null };
  time_unit: TimeUnit;
  as_of: string | null;
  options: { horizon_months: number; margin: number; margin_source: string; monthly_discount_rate: number;
    calibration_end: string | null; calibration_end_source: string };
  fit: ModelFit;
  spend_model: ModelFit;
  metrics: Record<'clv_predicted' | 'expected_purchases' | 'p_alive' | 'value_at_risk' | 'expected_order_value' | 'churn_risk', MetricResult>;
  distributions: { clv_predicted: Histogram; p_alive: Histogram; churn_risk: Histogram | null };
  top_customers: FutureRow[];
  value_at_risk: FutureRow[];
  churn_risk: { formula: string; parts: { id: string; weight: number; formula: string; reason?: string }[] } | null;
  holdout: HoldoutCheck;
  warnings: Warning[];
}

/** Per-row predictions (predictions()); NaN where not defined. */
export interface Predictions {
  count: number;
  customer_id: string[];
  p_alive: Float64Array;
  expected_purchases: Float64Array;
  expected_order_value: Float64Array;
  clv_predicted: Float64Array;
  value_at_risk: Float64Array;
  churn_risk?: Uint8Array;
  churn_risk_model?: Float64Array;
  churn_risk_rhythm?: Float64Array;
  churn_risk_decline?: Float64Array;
  t_x?: Float64Array;
  T?: Float64Array;
  frequency_cal?: Float64Array;
  t_x_cal?: Float64Array;
  T_cal?: Float64Array;
  monetary_cal?: Float64Array;
  frequency_holdout?: Float64Array;
  predicted_holdout?: Float64Array;
}

export type LoadInput =
  | Uint8Array | ArrayBuffer | ArrayBufferView | string | Blob
  | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface Engine {
  readonly version: string;
  load(table: LoadTable, data: LoadInput, options?: LoadOptions): Promise<FileReport>;
  analyze(options?: AnalyzeOptions): Report;
  customers(): Customers;
  /** The customers() table as CSV text (CRLF, ids escaped against formula injection); throws CustlensError 'no_analysis' before analyze(). */
  customersCsv(): string;
  /** customersCsv() as UTF-8 bytes, for a download or a file (no text decoded and encoded again). */
  customersCsvBytes(): Uint8Array;
  /** Fits the models and predicts (docs/models.md); throws CustlensError 'no_analysis' before analyze() for the orders source. */
  predict(options?: PredictOptions): Future;
  /** The per-row predictions of the last predict(); throws CustlensError 'no_prediction' before it. */
  predictions(): Predictions;
  /** The customers' purchase histories of the last analyze(), for another engine's loadHistories(); throws 'no_analysis' before it. */
  histories(): Uint8Array;
  /** Replaces every table with histories() from another engine of this version; predict() then works on them. Throws 'bad_histories'. */
  loadHistories(bytes: Uint8Array | ArrayBuffer): void;
  reset(): void;
  close(): void;
}

export declare function createEngine(options?: CreateEngineOptions): Promise<Engine>;
