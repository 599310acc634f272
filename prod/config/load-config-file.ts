// Reads an Arvados cluster config file (YAML, or JSON) and parses it with the core parser.
// Every failure becomes a ConfigFileError whose message names the file, the place in it
// (line/column for syntax, the dotted key path for values) and what was expected.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../core/config/config-error.js';
import { parseClusterConfigDocument, type ParsedClusterConfig } from '../../core/config/parse-cluster-config.js';
import { JsonSyntaxError, describeJsonSyntaxError, parseJson } from '../../core/domain/json.js';

/** A config file that cannot be read or is invalid. `path` is '' for read and syntax errors. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super(path === '' ? `${file}: ${problem}` : `${file}: ${path}: ${problem}`);
    this.name = 'ConfigFileError';
  }
}

/**
 * Parses config text. YAML is read with the YAML 1.1 schema, as Arvados' Go loader does
 * (`yes`/`no`/`on`/`off` are booleans); duplicate keys are an error. A file named *.json
 * is read as JSON.
 * @throws ConfigFileError for syntax errors (with line and column) and invalid values
 */
export function parseConfigText(text: string, file: string, opts: { clusterId?: string } = {}): ParsedClusterConfig {
  const doc = file.endsWith('.json') ? parseJsonText(text, file) : parseYamlText(text, file);
  try {
    return parseClusterConfigDocument(doc, opts);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigFileError(file, e.path, e.problem);
    throw e;
  }
}

/**
 * Reads and parses a cluster config file.
 * @param opts.clusterId the cluster to use when the file defines several
 * @throws ConfigFileError when the file cannot be read, is not valid YAML/JSON, or has an
 *   invalid value
 */
export async function loadConfigFile(file: string, opts: { clusterId?: string } = {}): Promise<ParsedClusterConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigFileError(file, '', `reading the config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseConfigText(text, file, opts);
}

function parseYamlText(text: string, file: string): unknown {
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = err.linePos?.[0];
    const where = pos !== undefined ? `line ${pos.line}, column ${pos.col}: ` : '';
    const reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigFileError(file, '', `${where}invalid YAML: ${reason}`);
  }
  return doc.toJS({ maxAliasCount: 1000 }) as unknown;
}

function parseJsonText(text: string, file: string): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new ConfigFileError(file, '', describeJsonSyntaxError(text, e));
  }
}

/**
 * Containers.DispatchPrivateKey as Arvados' LoadSSHKey reads it: `file:///abs/path` loads
 * the key from that file; anything else is the PEM text itself.
 * @throws ConfigFileError when the referenced file cannot be read
 */
export async function loadDispatchPrivateKey(value: string, configFile: string, keyPath: string): Promise<string> {
  if (!value.startsWith('file://')) return value;
  try {
    return await readFile(fileURLToPath(value), 'utf8');
  } catch (e) {
    throw new ConfigFileError(configFile, keyPath, `reading the private key file ${value}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
