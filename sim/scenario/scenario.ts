import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { ConfigError } from '../../core/config/config-error.js';
import { parseClusterBody } from '../../core/config/parse-cluster-config.js';
import { DEFAULT_POLICY, findPolicy, policyNames } from '../../core/scheduler/policies.js';
import type { CloudBehavior } from '../cloud/cloud-behavior.js';
import { readWorkload } from '../workload/schema.js';
import type { WorkloadEntry } from '../workload/types.js';
import { parseCloud } from './cloud-spec.js';
import { parseExpectation, type Expectation } from './expectations.js';
import { parseFaults, type Fault } from './faults.js';
import { join, readDuration, readList, readMap, readNumber, readString, type Raw } from './fields.js';
import { applyOverride } from './overrides.js';
import { ScenarioError } from './scenario-error.js';

/** The cluster ID of simulated clusters (container UUIDs read `zzzzz-dz642-...`). */
export const SIM_CLUSTER_ID = 'zzzzz';
const DEFAULT_HORIZON_MS = 365 * 86_400_000;

/** A validated scenario file (CONTRACTS.md section 2). Times are ms. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly policy: string;
  readonly horizonMs: number;
  readonly config: ClusterConfig;
  readonly configWarnings: readonly string[];
  readonly cloud: CloudBehavior;
  readonly workload: readonly WorkloadEntry[];
  readonly faults: readonly Fault[];
  readonly expect: readonly Expectation[];
  /** Relative trace paths are resolved against this folder (the scenario file's). */
  readonly dir: string;
}

export interface ScenarioOptions {
  /** `--set PATH=VALUE` assignments, applied in order before validation. */
  readonly sets?: readonly string[];
  /** `--seed`, `--policy`: override the file's values. */
  readonly seed?: number;
  readonly policy?: string;
}

const TOP_KEYS = ['name', 'description', 'seed', 'policy', 'horizon', 'cluster', 'cloud', 'workload', 'faults', 'expect'] as const;

/**
 * Validate a parsed scenario document. `doc` is modified by the `--set` overrides.
 * @throws ScenarioError naming the path inside the document
 */
export function parseScenario(doc: Raw, dir: string, opts: ScenarioOptions = {}): Scenario {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ScenarioError('', 'expected a map with at least `name` and `workload`');
  }
  for (const s of opts.sets ?? []) applyOverride(doc as Record<string, unknown>, s);
  const m = readMap(doc, '', TOP_KEYS);
  if (m.name === undefined) throw new ScenarioError('name', 'required');
  const name = readString(m.name, 'name');
  const policy = opts.policy ?? (m.policy === undefined ? DEFAULT_POLICY : readString(m.policy, 'policy'));
  if (findPolicy(policy) === undefined) {
    throw new ScenarioError(opts.policy !== undefined ? '--policy' : 'policy', `expected one of ${policyNames().join(', ')}, got ${JSON.stringify(policy)}`);
  }
  const seed = opts.seed ?? (m.seed === undefined ? 1 : readNumber(m.seed, 'seed', { integer: true, min: 0 }));
  const horizonMs = m.horizon === undefined ? DEFAULT_HORIZON_MS : readDuration(m.horizon, 'horizon');
  if (horizonMs <= 0) throw new ScenarioError('horizon', 'expected a duration above 0');

  let parsed;
  try {
    parsed = parseClusterBody(m.cluster ?? {}, { path: 'cluster', clusterId: SIM_CLUSTER_ID });
  } catch (e) {
    if (e instanceof ConfigError) throw new ScenarioError(e.path, e.problem);
    throw e;
  }
  if (Object.keys(parsed.config.InstanceTypes).length === 0) {
    throw new ScenarioError('cluster.InstanceTypes', 'expected at least one instance type');
  }
  const cloud = parseCloud(m.cloud, 'cloud');
  if (m.workload === undefined) throw new ScenarioError('workload', 'required (a list of workload entries)');
  const workload = readWorkload(m.workload, 'workload');
  const expectRaw = m.expect === undefined ? [] : readList(m.expect, 'expect');
  return {
    name,
    description: m.description === undefined ? '' : readString(m.description, 'description'),
    seed,
    policy,
    horizonMs,
    config: parsed.config,
    configWarnings: parsed.warnings,
    cloud,
    workload,
    faults: parseFaults(m.faults, 'faults'),
    expect: expectRaw.map((e, i) => parseExpectation(e, join('expect', i))),
    dir,
  };
}

/** Bad scenario input, with the file: "FILE: PATH: what was expected". */
export class ScenarioFileError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ScenarioFileError';
  }
}

/** Read, override and validate a scenario file. @throws ScenarioFileError */
export function loadScenarioFile(file: string, opts: ScenarioOptions = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioFileError(file, '', `cannot read the scenario: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const pos = err.linePos?.[0];
    const where = pos !== undefined ? `line ${pos.line}, column ${pos.col}: ` : '';
    throw new ScenarioFileError(file, '', `${where}invalid YAML: ${err.message.split('\n')[0]}`);
  }
  try {
    return parseScenario(doc.toJS({ maxAliasCount: 100 }), dirname(resolve(file)), opts);
  } catch (e) {
    if (e instanceof ScenarioError) throw new ScenarioFileError(file, e.path, e.message);
    throw e;
  }
}
