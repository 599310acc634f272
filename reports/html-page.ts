import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportSpec, TableSpec } from './chart-spec.js';
import { renderCharts } from './render-charts.js';

let d3Source: string | undefined;

/** d3's UMD bundle, read once from the installed package and inlined: reports need no network. */
function d3Bundle(): string {
  if (d3Source === undefined) {
    const entry = createRequire(import.meta.url).resolve('d3');
    d3Source = readFileSync(join(dirname(entry), 'd3.min.js'), 'utf8');
  }
  return d3Source;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** JSON safe to put inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function formatCell(v: string | number): string {
  if (typeof v === 'string') return escapeHtml(v);
  if (!Number.isFinite(v)) return '';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4).replace(/\.?0+$/, '');
}

function table(t: TableSpec): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((v, i) => `<td class="${typeof v === 'number' || i > 0 ? 'num' : ''}">${formatCell(v)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<section class="table"><h2>${escapeHtml(t.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 980px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } .subtitle { color: #555; margin: 0 0 18px; }
h2 { font-size: 16px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin-bottom: 8px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 18px 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
.axis-label { font-size: 12px; fill: #333; } .notes { color: #555; font-size: 13px; }
`;

/** A self-contained HTML page: summary tables first, then the charts (drawn by d3). */
export function renderReportHtml(spec: ReportSpec): string {
  const notes = (spec.notes ?? []).map((n) => `<p>${escapeHtml(n)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(spec.title)}</title>
<style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(spec.title)}</h1>
<p class="subtitle">${escapeHtml(spec.subtitle)}</p>
${spec.tables.map(table).join('\n')}
<div class="notes">${notes}</div>
<div id="charts"></div>
<script>${d3Bundle()}</script>
<script id="report-data" type="application/json">${scriptJson(spec.charts)}</script>
<script>
var __name = function (f) { return f; };
(${renderCharts.toString()})(d3, JSON.parse(document.getElementById('report-data').textContent));
</script>
</body></html>
`;
}
