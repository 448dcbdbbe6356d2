import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadRules } from '@vigil/correlation/dist/rules/loader';

const CLI = resolve(__dirname, '..', 'dist', 'cli.js');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vigil-tools sigma import (the built CLI)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-sigma-'));
    mkdirSync(join(dir, 'in', 'auth'), { recursive: true });
    writeFileSync(
      join(dir, 'in', 'auth', 'brute.yml'),
      `title: Failed then success
correlation:
  type: temporal_ordered
  rules: [many_failed, success]
  group-by: [user.id]
  timespan: 10m
level: critical
---
title: Many failed
name: many_failed
correlation:
  type: event_count
  rules: [failed]
  group-by: [user.id]
  timespan: 10m
  condition: { gte: 5 }
---
title: Failed
name: failed
logsource: { product: vigil, category: authentication }
detection:
  s: { event.outcome: failure }
  condition: s
---
title: Success
name: success
logsource: { product: vigil, category: authentication }
detection:
  s: { event.outcome: success }
  condition: s
`,
    );
    writeFileSync(
      join(dir, 'in', 'windows.yml'),
      `title: Encoded PowerShell
logsource: { product: windows, category: process_creation }
detection:
  s:
    CommandLine|base64offset|contains: 'IEX'
  condition: s
`,
    );
    writeFileSync(
      join(dir, 'mapping.yml'),
      `logsources:\n  - match: { product: windows, category: process_creation }\nfields:\n  CommandLine: details.command_line\n`,
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the accepted rules as loadable Vigil YAML and reports each refusal with its reason and line', async () => {
    const out = join(dir, 'out');
    const r = cli(['sigma', 'import', join(dir, 'in'), '--out', out, '--mapping', join(dir, 'mapping.yml')]);
    expect(r.code).toBe(1); // one refused
    expect(r.out).toMatch(/accepted {2}.*brute\.yml:1 {2}Failed then success {2}-> .*sigma\.failed_then_success\.yaml/);
    expect(r.out).toMatch(/refused {3}.*windows\.yml:5 {2}Encoded PowerShell: modifier "base64offset"/);
    expect(r.out).toMatch(/2 file\(s\): 1 rule\(s\) accepted, 1 refused/);
    expect(readdirSync(out)).toEqual(['sigma.failed_then_success.yaml']);
    const loaded = await loadRules(out);
    expect(loaded.ok).toBe(true);
    if (loaded.ok)
      expect(loaded.ruleSet.rules[0]!.rule).toMatchObject({ kind: 'sequence', severity: 'critical', group_by: ['actor.user_id'] });
  });

  it('without the mapping the Windows rule is refused for its logsource, and nothing is written without --out', () => {
    const r = cli(['sigma', 'import', join(dir, 'in')]);
    expect(r.out).toMatch(/refused .*windows\.yml:2 {2}Encoded PowerShell: logsource .* has no mapping/);
  });

  it('exits 2 on usage errors and on an invalid mapping file', () => {
    expect(cli(['sigma']).code).toBe(2);
    expect(cli(['sigma', 'import']).code).toBe(2);
    expect(cli(['sigma', 'import', join(dir, 'in'), '--out']).err).toMatch(/--out/); // option without its value
    expect(cli(['sigma', 'import', join(dir, 'in'), '--output', 'x']).err).toMatch(/Unknown option '--output'/);
    writeFileSync(join(dir, 'bad.yml'), 'fields: { X: "not a path!" }\n');
    const r = cli(['sigma', 'import', join(dir, 'in'), '--mapping', join(dir, 'bad.yml')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yml: fields\.X/);
  });
});
