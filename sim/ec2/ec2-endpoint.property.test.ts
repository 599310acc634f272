import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverOverEndpoint, TEST_TYPES, type DriverOverEndpoint } from '../../test/fakes/ec2-fixtures.js';
import { MemoryInstanceSet } from '../../test/fakes/ec2-memory-instance-set.js';
import { hasControlCharacter } from './query-params.js';

// Printable text in any script, as EC2 tags allow: no control characters.
const text = (min: number, max: number) =>
  fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter((s) => !hasControlCharacter(s) && !/[\t\n]/.test(s));
const key = text(1, 40).filter((k) => !k.toLowerCase().startsWith('aws:') && k.length <= 128);
const tags = fc.dictionary(key, text(0, 60), { maxKeys: 8 });

/**
 * Tags of any script and punctuation survive the whole trip: SDK form encoding, the
 * endpoint's query parser, the served set, XML out, SDK XML parsing.
 */
describe('EC2 endpoint round trip (property)', () => {
  let h: DriverOverEndpoint;
  let cloud: MemoryInstanceSet;
  beforeAll(async () => {
    cloud = new MemoryInstanceSet();
    h = await driverOverEndpoint(cloud);
  });
  afterAll(async () => {
    await h.close();
  });

  it('keeps spaces at the ends, tabs, newlines and markup characters', async () => {
    const wanted = { ArvadosInstanceSetID: 'edge', ' padded ': '  two  ', tabs: 'a\tb\nc', markup: '<a href="x">&amp;</a>', empty: '' };
    await h.driver.create({ type: TEST_TYPES[0]!, imageId: 'ami-1', tags: wanted, initCommand: 'true', publicKey: null });
    expect((await h.driver.instances({ ArvadosInstanceSetID: 'edge' }))[0]?.tags).toEqual(wanted);
  });

  it('keeps keys that name Object.prototype members as plain tags', async () => {
    // An object literal would set the prototype: build the tags as own properties.
    const wanted = Object.fromEntries([['ArvadosInstanceSetID', 'proto'], ['__proto__', 'p'], ['constructor', 'c'], ['toString', '']]);
    await h.driver.create({ type: TEST_TYPES[0]!, imageId: 'ami-1', tags: wanted, initCommand: 'true', publicKey: null });
    expect(Object.getPrototypeOf(cloud.created.at(-1)?.tags)).toBe(Object.prototype);
    const [listed] = await h.driver.instances({ ArvadosInstanceSetID: 'proto' });
    expect(listed?.tags).toEqual(wanted);
    expect(Object.getPrototypeOf(listed?.tags)).toBe(Object.prototype);
    expect(await h.driver.instances(Object.fromEntries([['ArvadosInstanceSetID', 'proto'], ['__proto__', 'p']]))).toHaveLength(1);
    // An instance without the tag does not match through an inherited member.
    expect(await h.driver.instances(Object.fromEntries([['ArvadosInstanceSetID', 'edge'], ['constructor', 'c']]))).toHaveLength(0);
  });

  it('refuses control characters that XML cannot carry', async () => {
    h.endpoint.requests.length = 0;
    const e = await h.driver.create({ type: TEST_TYPES[0]!, imageId: 'ami-1', tags: { bad: 'a\rb' }, initCommand: 'true', publicKey: null }).catch((x: unknown) => x);
    expect((e as Error).message).toContain('InvalidParameterValue');
  });

  it('create, list by a tag filter, and setTags keep every tag exactly', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(tags, tags, async (initial, added) => {
        const set = `set-${++n}`;
        const wanted = { ...initial, ArvadosInstanceSetID: set };
        const inst = await h.driver.create({ type: TEST_TYPES[0]!, imageId: 'ami-1', tags: wanted, initCommand: 'true', publicKey: null });
        expect(cloud.created.at(-1)?.tags).toEqual(wanted);
        expect(inst.tags).toEqual(wanted);
        const [listed] = await h.driver.instances({ ArvadosInstanceSetID: set });
        expect(listed?.tags).toEqual(wanted);
        await listed!.setTags({ ...wanted, ...added, ArvadosInstanceSetID: set });
        const [again] = await h.driver.instances({ ArvadosInstanceSetID: set });
        expect(again?.tags).toEqual({ ...wanted, ...added, ArvadosInstanceSetID: set });
      }),
      { numRuns: 40 },
    );
  });
});
