/**
 * Charts as data: reports describe what to draw, and one renderer (render-charts.ts) draws
 * every kind in the browser with d3. Keeps report builders testable without a browser.
 */
export type ChartKind = 'line' | 'stacked-area' | 'histogram' | 'scatter' | 'bar';

export interface SeriesSpec {
  readonly name: string;
  /** [x, y] pairs; for `bar`, x is a category index into ChartSpec.categories. */
  readonly points: readonly (readonly [number, number])[];
  /** Labels for scatter points (shown on hover and beside the point). */
  readonly labels?: readonly string[];
  /** Error bars for scatter/bar: [low, high] per point. */
  readonly ranges?: readonly (readonly [number, number])[];
  /** For `scatter`: join the points with a line (default true); false for a cloud of points. */
  readonly connect?: boolean;
}

export interface ChartSpec {
  readonly id: string;
  readonly kind: ChartKind;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly SeriesSpec[];
  /** For `bar`: category names along x. */
  readonly categories?: readonly string[];
  /** For `histogram`: number of bins. */
  readonly bins?: number;
  /** For `line` and `scatter`: start the y axis at 0 (default true); false fits it to the data. */
  readonly yZero?: boolean;
  /** Format x values as durations (seconds → "2h 30m"). */
  readonly xIsTime?: boolean;
}

export interface TableSpec {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface ReportSpec {
  readonly title: string;
  readonly subtitle: string;
  readonly tables: readonly TableSpec[];
  readonly charts: readonly ChartSpec[];
  /** Optional notes shown under the tables (plain text). */
  readonly notes?: readonly string[];
}
