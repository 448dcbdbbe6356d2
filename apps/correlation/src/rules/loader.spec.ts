import { mkdtempSync, writeFileSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics, silentLogger } from '@vigil/runtime';
import { waitFor } from '@vigil/testing';
import { SHIPPED_RULES_DIR } from '../config';
import { formatRuleError } from '../domain/compile';
import { CorrelationMetrics } from '../metrics';
import { loadRules, RuleLoadError, RuleRegistry } from './loader';

const GOOD = `id: probe
name: Probe
severity: low
kind: threshold
conditions:
  - { field: outcome, operator: equals, value: failure }
threshold: 2
window: 60
`;

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function errorsFor(files: Record<string, string>): Promise<string> {
  const dir = tempDir(files);
  try {
    const r = await loadRules(dir);
    return r.ok ? '' : r.errors.map(formatRuleError).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the shipped rules', () => {
  it('load, validate and are all enabled: the six detections of the issue', async () => {
    const r = await loadRules(SHIPPED_RULES_DIR);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ruleSet.rules.map((x) => [x.id, x.kind, x.rule.severity])).toEqual([
      ['brute_force_login', 'threshold', 'high'],
      ['brute_force_success', 'sequence', 'critical'],
      ['data_exfiltration', 'threshold', 'high'],
      ['password_spraying', 'distinct_count', 'high'],
      ['privilege_escalation', 'threshold', 'critical'],
      ['suspicious_api_activity', 'threshold', 'medium'],
    ]);
  });
});

describe('loading rule files', () => {
  it('names the file, the rule id and the field of an invalid rule', async () => {
    const text = await errorsFor({ 'a.yaml': GOOD.replace('threshold: 2', 'threshold: -2') });
    expect(text).toMatch(/a\.yaml: rule "probe": threshold: /);
  });

  it('names the file of unparseable YAML', async () => {
    expect(await errorsFor({ 'good.yaml': GOOD, 'broken.yml': 'id: [unclosed' })).toMatch(/broken\.yml: rule \(file\): cannot be parsed/);
  });

  it('refuses a YAML key given twice', async () => {
    expect(await errorsFor({ 'a.yaml': `${GOOD}threshold: 3\n` })).toMatch(/a\.yaml: .*cannot be parsed/);
  });

  it('refuses YAML alias bombs', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    expect(await errorsFor({ 'a.yaml': bomb.join('\n') })).toMatch(/cannot be parsed/);
  });

  it('reads JSON rule files and a rules list', async () => {
    const dir = tempDir({
      'x.json': JSON.stringify({ rules: [{ id: 'j1', name: 'J', severity: 'low', kind: 'threshold', threshold: 1, window: 1 }] }),
      'y.yaml': GOOD,
    });
    const r = await loadRules(dir);
    rmSync(dir, { recursive: true, force: true });
    expect(r.ok && r.ruleSet.ids).toEqual(['j1', 'probe']);
  });

  it('refuses an empty or missing folder', async () => {
    expect(await errorsFor({ 'README.md': 'no rules here' })).toMatch(/holds no \.yaml/);
    const r = await loadRules('/nonexistent/vigil-rules');
    expect(r.ok).toBe(false);
  });
});

describe('RuleRegistry', () => {
  const metrics = () => new CorrelationMetrics(new Metrics('correlation', { defaultMetrics: false }));

  it('stops start-up on an invalid rule with every problem listed', async () => {
    const dir = tempDir({ 'a.yaml': GOOD.replace('kind: threshold', 'kind: fuzzy') });
    await expect(RuleRegistry.load(dir, silentLogger(), metrics())).rejects.toThrow(RuleLoadError);
    await expect(RuleRegistry.load(dir, silentLogger(), metrics())).rejects.toThrow(/a\.yaml: rule "probe": kind/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the rules in force when a reload is invalid, and takes the new ones when it is valid', async () => {
    const dir = tempDir({ 'a.yaml': GOOD });
    const m = metrics();
    const reg = await RuleRegistry.load(dir, silentLogger(), m);
    writeFileSync(join(dir, 'a.yaml'), GOOD.replace('threshold: 2', 'threshold: nope'));
    expect(await reg.reload('test')).toBe(false);
    expect(reg.current.rules.map((r) => r.threshold)).toEqual([2]);
    writeFileSync(join(dir, 'a.yaml'), GOOD.replace('threshold: 2', 'threshold: 7'));
    expect(await reg.reload('test')).toBe(true);
    expect(reg.current.rules.map((r) => r.threshold)).toEqual([7]);
    const text = await m.shared.registry.metrics();
    expect(text).toMatch(/vigil_correlation_rule_reloads_total\{outcome="rejected",service="correlation"\} 1/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads on SIGHUP and when a file in the folder changes', async () => {
    const dir = tempDir({ 'a.yaml': GOOD });
    const reg = await RuleRegistry.load(dir, silentLogger(), metrics());
    reg.startWatching({ files: true, debounceMs: 20 });
    try {
      writeFileSync(join(dir, 'b.yaml'), GOOD.replace('id: probe', 'id: second'));
      await waitFor('file change reload', () => reg.current.ids.includes('second'), 5_000, 20);
      reg.stop();
      reg.startWatching({ files: false });
      writeFileSync(join(dir, 'c.yaml'), GOOD.replace('id: probe', 'id: third'));
      process.emit('SIGHUP', 'SIGHUP');
      await waitFor('SIGHUP reload', () => reg.current.ids.includes('third'), 5_000, 20);
    } finally {
      reg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reloads the shipped folder copied elsewhere without error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
    cpSync(SHIPPED_RULES_DIR, dir, { recursive: true });
    const reg = await RuleRegistry.load(dir, silentLogger(), metrics());
    expect(await reg.reload('test')).toBe(true);
    expect(reg.current.rules).toHaveLength(6);
    rmSync(dir, { recursive: true, force: true });
  });
});
