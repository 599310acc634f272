/* eslint-disable @typescript-eslint/no-explicit-any */
import type { ChartSpec } from './chart-spec.js';

/**
 * Draws every chart of a report into `#charts`. This function runs in the browser: it is
 * inlined into the page with `Function.prototype.toString`, so it must not reference
 * anything outside its own body but its parameters.
 */
export function renderCharts(d3: any, charts: readonly ChartSpec[]): void {
  const W = 760;
  const H = 340;
  const M = { top: 16, right: 150, bottom: 48, left: 72 };
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const palette: string[] = d3.schemeTableau10;
  const root = d3.select('#charts');

  const fmtTime = (s: number): string => {
    if (s >= 86400) return `${(s / 86400).toFixed(s % 86400 === 0 ? 0 : 1)}d`;
    if (s >= 3600) return `${(s / 3600).toFixed(s % 3600 === 0 ? 0 : 1)}h`;
    if (s >= 60) return `${(s / 60).toFixed(s % 60 === 0 ? 0 : 1)}m`;
    return `${s}s`;
  };

  for (const c of charts) {
    const fig = root.append('figure').attr('class', 'chart').attr('data-chart', c.id).attr('data-kind', c.kind);
    fig.append('figcaption').text(c.title);
    const svg = fig
      .append('svg')
      .attr('viewBox', `0 0 ${W} ${H}`)
      .attr('width', W)
      .attr('height', H)
      .attr('role', 'img')
      .attr('aria-label', c.title);
    const g = svg.append('g').attr('transform', `translate(${M.left},${M.top})`);
    const all = c.series.flatMap((s) => s.points);
    if (all.length === 0) {
      g.append('text').attr('x', iw / 2).attr('y', ih / 2).attr('text-anchor', 'middle').text('no data');
      continue;
    }
    const color = (i: number): string => palette[i % palette.length] ?? '#333';
    let x: any;
    let y: any;

    if (c.kind === 'histogram') {
      const values = all.map((p) => p[1]);
      const ext = d3.extent(values) as [number, number];
      x = d3.scaleLinear().domain([Math.min(0, ext[0]), ext[1] === ext[0] ? ext[0] + 1 : ext[1]]).nice().range([0, iw]);
      const bins = d3.bin().domain(x.domain()).thresholds(x.ticks(c.bins ?? 30))(values);
      y = d3.scaleLinear().domain([0, d3.max(bins, (b: any) => b.length) || 1]).nice().range([ih, 0]);
      g.append('g')
        .attr('class', 'series')
        .attr('data-series', c.series[0]?.name ?? '')
        .selectAll('rect')
        .data(bins)
        .join('rect')
        .attr('class', 'point')
        .attr('x', (b: any) => x(b.x0) + 1)
        .attr('y', (b: any) => y(b.length))
        .attr('width', (b: any) => Math.max(0, x(b.x1) - x(b.x0) - 1))
        .attr('height', (b: any) => ih - y(b.length))
        .attr('fill', color(0));
    } else if (c.kind === 'bar') {
      const cats = c.categories ?? [];
      x = d3.scaleBand().domain(cats.map((_: string, i: number) => i)).range([0, iw]).padding(0.2);
      const inner = d3.scaleBand().domain(c.series.map((_, i) => i)).range([0, x.bandwidth()]).padding(0.05);
      const ymax = d3.max(c.series.flatMap((s) => s.points.map((p, i) => Math.max(p[1], s.ranges?.[i]?.[1] ?? 0)))) || 1;
      y = d3.scaleLinear().domain([0, ymax]).nice().range([ih, 0]);
      c.series.forEach((s, si) => {
        const sg = g.append('g').attr('class', 'series').attr('data-series', s.name);
        s.points.forEach((p, pi) => {
          const bx = x(p[0]) + inner(si);
          sg.append('rect')
            .attr('class', 'point')
            .attr('x', bx)
            .attr('y', y(p[1]))
            .attr('width', inner.bandwidth())
            .attr('height', ih - y(p[1]))
            .attr('fill', color(si))
            .append('title')
            .text(`${s.name}, ${cats[p[0]] ?? p[0]}: ${d3.format(',.4~g')(p[1])}`);
          const r = s.ranges?.[pi];
          if (r !== undefined) {
            const cx = bx + inner.bandwidth() / 2;
            sg.append('line').attr('class', 'range').attr('x1', cx).attr('x2', cx).attr('y1', y(r[0])).attr('y2', y(r[1])).attr('stroke', '#222');
          }
        });
      });
    } else {
      const xs = d3.extent(all, (p: readonly number[]) => p[0]) as [number, number];
      x = d3.scaleLinear().domain(xs[0] === xs[1] ? [xs[0] - 1, xs[1] + 1] : xs).range([0, iw]);
      if (c.kind !== 'line' || c.xIsTime !== true) x = x.nice();
      let ymax: number;
      if (c.kind === 'stacked-area') {
        const n = Math.max(...c.series.map((s) => s.points.length));
        ymax = 0;
        for (let i = 0; i < n; i++) ymax = Math.max(ymax, d3.sum(c.series, (s: any) => s.points[i]?.[1] ?? 0));
      } else {
        ymax = d3.max(c.series.flatMap((s) => s.points.map((p, i) => Math.max(p[1], s.ranges?.[i]?.[1] ?? 0)))) ?? 1;
      }
      let ymin = c.kind === 'scatter' ? Math.min(0, d3.min(all, (p: readonly number[]) => p[1])) : 0;
      if (c.yZero === false && (c.kind === 'line' || c.kind === 'scatter')) {
        // Fit the data with a margin, so that small differences between points show.
        const lo = d3.min(c.series.flatMap((s) => s.points.map((p, i) => Math.min(p[1], s.ranges?.[i]?.[0] ?? p[1]))));
        ymin = lo - Math.max((ymax - lo) * 0.08, Math.abs(lo) * 0.01);
      }
      y = d3.scaleLinear().domain([ymin, ymax > ymin ? ymax : ymin + 1]).nice().range([ih, 0]);

      if (c.kind === 'stacked-area') {
        const n = Math.max(...c.series.map((s) => s.points.length));
        const base = new Array(n).fill(0);
        c.series.forEach((s, si) => {
          const lower = base.slice();
          s.points.forEach((p, i) => (base[i] += p[1]));
          const upper = base.slice();
          const area = d3
            .area()
            .x((_: unknown, i: number) => x(s.points[i]?.[0] ?? 0))
            .y0((_: unknown, i: number) => y(lower[i]))
            .y1((_: unknown, i: number) => y(upper[i]))
            .curve(d3.curveStepAfter);
          g.append('path')
            .attr('class', 'series')
            .attr('data-series', s.name)
            .attr('data-points', s.points.length)
            .attr('d', area(s.points))
            .attr('fill', color(si))
            .attr('fill-opacity', 0.8);
        });
      } else if (c.kind === 'line') {
        c.series.forEach((s, si) => {
          const line = d3
            .line()
            .x((p: number[]) => x(p[0]))
            .y((p: number[]) => y(p[1]));
          g.append('path')
            .attr('class', 'series')
            .attr('data-series', s.name)
            .attr('data-points', s.points.length)
            .attr('d', line(s.points))
            .attr('fill', 'none')
            .attr('stroke', color(si))
            .attr('stroke-width', 1.8);
        });
      } else {
        c.series.forEach((s, si) => {
          const sg = g.append('g').attr('class', 'series').attr('data-series', s.name).attr('data-points', s.points.length);
          if (s.points.length > 1 && s.connect !== false) {
            sg.append('path')
              .attr('d', d3.line()(s.points.map((p) => [x(p[0]), y(p[1])])))
              .attr('fill', 'none')
              .attr('stroke', color(si))
              .attr('stroke-opacity', 0.5);
          }
          s.points.forEach((p, pi) => {
            const r = s.ranges?.[pi];
            if (r !== undefined) {
              sg.append('line').attr('class', 'range').attr('x1', x(p[0])).attr('x2', x(p[0])).attr('y1', y(r[0])).attr('y2', y(r[1])).attr('stroke', color(si));
            }
            const dot = sg.append('circle').attr('class', 'point').attr('cx', x(p[0])).attr('cy', y(p[1])).attr('r', 4.5).attr('fill', color(si));
            const label = s.labels?.[pi];
            dot.append('title').text(`${s.name}${label ? ` (${label})` : ''}: x=${d3.format(',.4~g')(p[0])}, y=${d3.format(',.4~g')(p[1])}`);
            if (label !== undefined) {
              sg.append('text').attr('x', x(p[0]) + 6).attr('y', y(p[1]) - 6).attr('font-size', 10).text(label);
            }
          });
        });
      }
    }

    const xAxis = c.kind === 'bar' ? d3.axisBottom(x).tickFormat((i: number) => c.categories?.[i] ?? String(i)) : d3.axisBottom(x).ticks(8);
    if (c.xIsTime === true && c.kind !== 'bar') {
      // Ticks on whole minutes, hours or days rather than d3's decimal steps.
      const [lo, hi] = x.domain() as [number, number];
      const steps = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800, 2592000];
      const step = steps.find((st) => (hi - lo) / st <= 8) ?? 2592000;
      xAxis.tickValues(d3.range(Math.ceil(lo / step) * step, hi + 1e-9, step)).tickFormat(fmtTime);
    }
    g.append('g').attr('class', 'x-axis').attr('transform', `translate(0,${ih})`).call(xAxis);
    const yFormat = (v: number): string => (Math.abs(v) >= 1000 ? d3.format('.3~s')(v) : d3.format(',.3~g')(v));
    g.append('g').attr('class', 'y-axis').call(d3.axisLeft(y).ticks(6).tickFormat(yFormat));
    svg.append('text').attr('class', 'axis-label').attr('x', M.left + iw / 2).attr('y', H - 8).attr('text-anchor', 'middle').text(c.xLabel);
    svg
      .append('text')
      .attr('class', 'axis-label')
      .attr('transform', `translate(16,${M.top + ih / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .text(c.yLabel);
    if (c.series.length > 1 || c.kind !== 'histogram') {
      const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${M.left + iw + 14},${M.top})`);
      c.series.forEach((s, si) => {
        const row = legend.append('g').attr('transform', `translate(0,${si * 18})`);
        row.append('rect').attr('width', 12).attr('height', 12).attr('fill', color(si));
        // The legend column is narrow: long names are cut, the whole name shows on hover.
        const text = row.append('text').attr('x', 18).attr('y', 10).attr('font-size', 12).text(s.name.length > 22 ? `${s.name.slice(0, 21)}…` : s.name);
        if (s.name.length > 22) text.append('title').text(s.name);
      });
    }
  }
}
