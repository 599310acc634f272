// `vmdispatch instance-types --config CONFIG.yml --container CONTAINER.json [--cluster ID]`:
// prints the eligible instance types for one container, in the order the dispatcher would
// try them, as {"types":[...]}.
import { readFile } from 'node:fs/promises';
import { formatByteSize } from '../core/config/units.js';
import { parseContainerRecord } from '../core/domain/container-record.js';
import type { Container } from '../core/domain/container.js';
import { JsonSyntaxError, describeJsonSyntaxError, parseJson } from '../core/domain/json.js';
import { chooseInstanceType, resourcesNeeded } from '../core/domain/node-size.js';
import { RecordError } from '../core/domain/record-error.js';
import { ConstraintsNotSatisfiableError } from '../core/ports/errors.js';
import { ConfigFileError, loadConfigFile } from '../prod/config/load-config-file.js';
import { parseCommandArgs } from './args.js';
import { CheckFailed, InputError } from './errors.js';
import type { Command } from './main.js';

const USAGE = 'usage: vmdispatch instance-types --config CONFIG.yml --container CONTAINER.json [--cluster ID]';

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(
      {
        args: [...argv],
        options: {
          config: { type: 'string' },
          container: { type: 'string' },
          cluster: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      },
      USAGE,
    );
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    if (values.config === undefined) throw new InputError(`missing --config CONFIG.yml\n${USAGE}`);
    if (values.container === undefined) throw new InputError(`missing --container CONTAINER.json\n${USAGE}`);

    let parsed;
    try {
      parsed = await loadConfigFile(values.config, values.cluster === undefined ? {} : { clusterId: values.cluster });
    } catch (e) {
      if (e instanceof ConfigFileError) throw new InputError(e.message, { cause: e });
      throw e;
    }
    for (const w of parsed.warnings) console.error(`warning: ${values.config}: ${w}`);
    const ctr = await readContainerFile(values.container);

    let types;
    try {
      types = chooseInstanceType(parsed.config, ctr);
    } catch (e) {
      if (!(e instanceof ConstraintsNotSatisfiableError)) throw e;
      const need = resourcesNeeded(parsed.config, ctr);
      const needText =
        `needs ${need.vcpus} VCPUs, ${formatByteSize(need.ram)} RAM, ${formatByteSize(need.scratch)} scratch` +
        (need.gpus > 0 ? `, ${need.gpus} ${ctr.runtimeConstraints.gpu.stack} GPUs with ${formatByteSize(need.gpuVram)} VRAM` : '') +
        (ctr.schedulingParameters.preemptible ? ', preemptible' : '');
      const available = e.availableTypes.length > 0 ? `; configured types by price: ${e.availableTypes.join(', ')}` : '';
      throw new CheckFailed(`${ctr.uuid}: ${e.message} (${needText}${available})`);
    }
    console.log(JSON.stringify({ types: types.map((t) => t.name) }));
    return 0;
  },
};

async function readContainerFile(file: string): Promise<Container> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: reading the container file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let raw;
  try {
    raw = parseJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new InputError(`${file}: ${describeJsonSyntaxError(text, e)}`);
  }
  try {
    return parseContainerRecord(raw);
  } catch (e) {
    if (e instanceof RecordError) throw new InputError(`${file}: ${e.message}`, { cause: e });
    throw e;
  }
}
