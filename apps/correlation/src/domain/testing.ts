import { uuidV5, type SecurityEvent } from '@vigil/contracts';
import { compileRuleSet, type CompiledRule, type RuleSet } from './compile';

/** Test helpers for domain specs (not used by production code). */

export const T0 = Date.parse('2026-11-29T10:00:00.000Z');

export function event(n: number | string, over: Partial<SecurityEvent> & { at?: number } = {}): SecurityEvent {
  const { at, ...rest } = over;
  return {
    schema_version: 1,
    event_id: uuidV5(`test-event:${n}`),
    timestamp: new Date(at ?? T0).toISOString(),
    received_at: new Date(at ?? T0).toISOString(),
    event_type: 'authentication',
    severity: 'medium',
    source: { application: 'web', ip: '203.0.113.7' },
    actor: { type: 'user', user_id: 'alice' },
    action: 'login',
    outcome: 'failure',
    details: {},
    tags: [],
    ...rest,
  };
}

export function ruleSet(...docs: unknown[]): RuleSet {
  const r = compileRuleSet(docs.map((document, i) => ({ file: `rule${i}.yaml`, document })));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.file} ${e.rule} ${e.field}: ${e.message}`).join('\n'));
  return r.ruleSet;
}

export function rule(doc: Record<string, unknown>): CompiledRule {
  return ruleSet(doc).rules[0]!;
}
