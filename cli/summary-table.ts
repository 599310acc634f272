import type { Summary } from '../sim/runner/summary.js';
import { humanDuration } from './progress.js';

/** The summary `vmdispatch sim` prints at the end: plain text, aligned, for a terminal or a log. */
export function formatSummaryTable(s: Summary): string {
  const ratio = s.cost.lowerBound > 0 ? (s.cost.total / s.cost.lowerBound).toFixed(2) : 'n/a';
  const rows: [string, string][] = [
    ['scenario', `${s.scenario} (policy ${s.policy}, seed ${s.seed}, transport ${s.transport})`],
    ['simulated', `${humanDuration(s.simulatedSeconds)} (${s.endReason === 'done' ? 'workload done' : 'horizon reached'}) in ${s.wallSeconds.toFixed(2)} s wall, ${s.events.toLocaleString('en-US')} events`],
    ['containers', `${s.containers.total} total: ${s.containers.complete} complete, ${s.containers.failed} failed, ${s.containers.cancelled} cancelled, ${s.containers.unfinished} unfinished; ${s.containers.retried} retried`],
    ['safety', `${s.containers.lost} lost, ${s.containers.doubleStarts} double starts, max lock count ${s.containers.maxLockCount}`],
    ['wait (s)', `mean ${fmt(s.wait.mean)}, p50 ${fmt(s.wait.p50)}, p95 ${fmt(s.wait.p95)}, max ${fmt(s.wait.max)}`],
    ['cost', `${s.cost.total.toFixed(2)} total (${ratio} x lower bound ${s.cost.lowerBound.toFixed(2)}); idle ${s.cost.idle.toFixed(2)}, booting ${s.cost.booting.toFixed(2)}`],
    ['instances', `${s.instances.created} created, peak ${s.instances.peak}, ${s.instances.bootFailures} boot failures, ${s.instances.interrupted} interrupted, ${s.instances.leakedAtEnd} leaked`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  if (s.expectations.length > 0) {
    lines.push('', 'expectations:');
    for (const e of s.expectations) lines.push(`  ${e.ok ? 'ok  ' : 'FAIL'}  ${e.text}  (value ${e.value === null ? 'n/a' : fmt(e.value)})`);
  }
  if (s.invariantViolations.length > 0) {
    lines.push('', `invariant violations (${s.invariantViolations.length}):`);
    for (const v of s.invariantViolations.slice(0, 20)) lines.push(`  ${v.invariant} at ${fmt(v.at)} s: ${v.detail}`);
    if (s.invariantViolations.length > 20) lines.push(`  ... and ${s.invariantViolations.length - 20} more in summary.json`);
  }
  return lines.join('\n');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
