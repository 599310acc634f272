import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { mapClusterCsvRows, parseClusterCsv } from './cluster-csv.js';
import { generateWorkloadReport } from './generate.js';
import { readWorkload } from './schema.js';

const MiB = 1024 * 1024;
const HEADER = 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time';
const FIXTURE = [
  HEADER,
  'openb-pod-0017,12000,16384,1,1000,,LS,Running,1000,9000,1100',
  'openb-pod-0018,88000,327680,8,1000,"V100M16|V100M32",BE,Succeeded,1500,5000,1600',
  'openb-pod-0019,500,0,0,0,,BE,Pending,1200,,',
  'openb-pod-0020,4000,4096,1,460,G2,LS,Running,1300,,1350',
  '"pod ""quoted"", name",2000,1024.5,0,0,,BE,Succeeded,2000,2100,2000',
].join('\n');

describe('cluster-csv import', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmdispatch-cluster-csv-'));
    writeFileSync(join(dir, 'pods.csv'), FIXTURE + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps rows to requests: submit = creation, runtime = deletion - scheduled, GPU rows get the template', () => {
    const entries = readWorkload([
      { kind: 'cluster-csv', path: 'pods.csv', gpu: { stack: 'cuda', hardware_target: ['7.0'], driver_version: '11.0', vram: '16GiB' }, maxVCPUs: 64 },
    ]);
    const { requests, skipped } = generateWorkloadReport(entries, { rng: new SeededRng('1'), scenarioDir: dir, largestTypeVCPUs: 96 });
    expect(skipped).toEqual([{ entry: 0, path: 'pods.csv', reasons: { 'never scheduled': 1, 'no deletion time': 1 } }]);
    expect(requests.map((r) => [r.id, r.source.job, r.source.line, r.submitAt, r.runtimeMs, r.vcpus, r.ram, r.gpu?.deviceCount ?? 0])).toEqual([
      ['w0-0', 'openb-pod-0017', 2, 0, 7_900_000, 12, 16384 * MiB, 1],
      ['w0-1', 'openb-pod-0018', 3, 500_000, 3_400_000, 64, 327680 * MiB, 8],
      ['w0-2', 'pod "quoted", name', 6, 1_000_000, 100_000, 2, Math.round(1024.5 * MiB), 0],
    ]);
    expect(requests[1]!.gpu).toEqual({ stack: 'cuda', deviceCount: 8, hardwareTarget: ['7.0'], driverVersion: '11.0', vram: 16 * 1024 * MiB });
    expect(requests[2]!.gpu).toBeNull();
  });

  it('limit counts data rows; a default GPU template is cuda', () => {
    const rows = parseClusterCsv(FIXTURE, 2);
    expect(rows.map((r) => r.name)).toEqual(['openb-pod-0017', 'openb-pod-0018']);
    const { requests } = generateWorkloadReport(readWorkload([{ kind: 'cluster-csv', path: 'pods.csv', limit: 1 }]), {
      rng: new SeededRng('1'),
      scenarioDir: dir,
      largestTypeVCPUs: 8,
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ vcpus: 8, gpu: { stack: 'cuda', deviceCount: 1, hardwareTarget: [], driverVersion: '', vram: 0 } });
  });

  it('accepts the columns in any order and skips rows deleted before they were scheduled', () => {
    const text = 'creation_time,scheduled_time,deletion_time,name,cpu_milli,memory_mib,num_gpu,gpu_milli\n10,20,15,a,1000,100,0,0\n10,20,30,b,1500,100,0,0\n';
    const { requests, skipped } = mapClusterCsvRows(parseClusterCsv(text), 4);
    expect(skipped).toEqual({ 'deleted before scheduled': 1 });
    expect(requests.map((r) => [r.row.name, r.runtimeMs, r.vcpus])).toEqual([['b', 10_000, 2]]);
  });

  it('rejects malformed files with the line number', () => {
    expect(() => parseClusterCsv('name,cpu_milli\nx,1\n')).toThrow(/^line 1: header lacks column\(s\) memory_mib, num_gpu/);
    expect(() => parseClusterCsv(`${HEADER}\nopenb-pod-1,1000,10,0,0,,BE,Running,1,2\n`)).toThrow('line 2: expected 11 fields as in the header, got 10');
    expect(() => parseClusterCsv(`${HEADER}\n\nopenb-pod-1,lots,10,0,0,,BE,Running,1,2,1\n`)).toThrow('line 3: cpu_milli must be a number >= 0, got "lots"');
    expect(() => parseClusterCsv(`${HEADER}\n"open,1000,10,0,0,,BE,Running,1,2,1\n`)).toThrow('line 2: unterminated quoted field');
    expect(() => parseClusterCsv('')).toThrow(/empty file/);
    const entries = readWorkload([{ kind: 'cluster-csv', path: 'bad.csv' }]);
    expect(() =>
      generateWorkloadReport(entries, { rng: new SeededRng('1'), scenarioDir: dir, largestTypeVCPUs: 8, readFile: () => `${HEADER}\nx,1,1,1,1,,,,1,1\n` }),
    ).toThrow('workload[0].path: reading bad.csv: line 2: expected 11 fields as in the header, got 10');
  });
});
