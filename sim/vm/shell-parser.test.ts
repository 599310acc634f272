import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../core/domain/shell.js';
import { expandWord, parseScript, ShellSyntaxError, type Script } from './shell-parser.js';

function words(script: Script, env = new Map<string, string>()): string[][][] {
  return script.map((list) => list.map((cmd) => cmd.words.map((w) => expandWord(w, env))));
}

describe('parseScript', () => {
  it('splits words, single quotes and the quote-escape idiom', () => {
    const s = parseScript(`crunch-run --detach --stdin-config '--runtime-engine=stub' '--foo' '--extra='\\''args'\\''' 'zzzzz-dz642-000000000000001'`);
    expect(words(s)).toEqual([
      [['crunch-run', '--detach', '--stdin-config', '--runtime-engine=stub', '--foo', "--extra='args'", 'zzzzz-dz642-000000000000001']],
    ]);
  });

  it('round-trips anything shellQuote produces', () => {
    for (const v of ["it's", '', ' spaces ', '$HOME', '"q"', 'a\\b', "''", 'semi;colon && x']) {
      expect(words(parseScript(`echo ${shellQuote(v)}`))).toEqual([[['echo', v]]]);
    }
  });

  it('round-trips any string through shellQuote (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 }), (values) => {
        const script = parseScript(`crunch-run ${values.map(shellQuote).join(' ')}`);
        expect(words(script)).toEqual([[['crunch-run', ...values]]]);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps assignments and expands variables when asked', () => {
    const s = parseScript('set -e; dstdir="/var/lib/arvados/"; dstfile="/var/lib/arvados/crunch-run~x"; mkdir -p "$dstdir"; cat >"$dstfile"');
    expect(s).toHaveLength(5);
    expect(s[1]![0]!.assignments.map((a) => a.name)).toEqual(['dstdir']);
    const env = new Map([
      ['dstdir', '/d/'],
      ['dstfile', '/d/f'],
    ]);
    expect(words(s, env)[3]).toEqual([['mkdir', '-p', '/d/']]);
    expect(expandWord(s[4]![0]!.redirects[0]!, env)).toBe('/d/f');
    expect(expandWord(parseScript('echo ${dstfile}x')[0]![0]!.words[1]!, env)).toBe('/d/fx');
  });

  it('parses && lists, newlines, comments and redirection without spaces', () => {
    const s = parseScript('umask 0177 && echo -n "s3cret" >/var/run/arvados-instance-secret\n# comment\ntrue');
    expect(words(s)).toEqual([[['umask', '0177'], ['echo', '-n', 's3cret']], [['true']]]);
    expect(expandWord(s[0]![1]!.redirects[0]!, new Map())).toBe('/var/run/arvados-instance-secret');
  });

  it('handles backslashes inside and outside double quotes', () => {
    expect(words(parseScript('echo "a\\"b\\$c\\x" d\\ e'))).toEqual([[['echo', 'a"b$c\\x', 'd e']]]);
    expect(words(parseScript('echo ""'))).toEqual([[['echo', '']]]);
  });

  it('refuses syntax outside the subset', () => {
    for (const bad of [
      'a | b',
      'a || b',
      'a &',
      'echo $(id)',
      'echo `id`',
      'echo "`id`"',
      'ls *',
      'cat < f',
      'echo >> f',
      '(true)',
      '{ true; }',
      'echo $1',
      'echo ${x:-y}',
      "echo 'open",
      'echo "open',
      'true &&',
      '&& true',
      '> f',
    ]) {
      expect(() => parseScript(bad), bad).toThrow(ShellSyntaxError);
    }
  });
});
