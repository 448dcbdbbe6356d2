import { parseTemplate, renderTemplate } from './template';

const context = {
  group: { 'source.ip': '203.0.113.7', 'actor.user_id': 'alice' },
  rule: { id: 'auth.brute_force', name: 'Brute force' },
  event_count: 12,
  tags: ['auth'],
  sample_events: [{ actor: { user_id: 'bob' } }],
};

function render(source: string): unknown {
  const t = parseTemplate(source);
  if (!t.ok) throw new Error(t.reason);
  const r = renderTemplate(t.value, context);
  return r.ok ? r.value : `ERR ${r.reason}`;
}

describe('templates', () => {
  it.each([
    ['{{ group["source.ip"] }}', '203.0.113.7'],
    ["{{group['actor.user_id']}}", 'alice'],
    ['{{ sample_events[0].actor.user_id }}', 'bob'],
    ['{{ event_count }}', 12],
    ['{{ tags }}', ['auth']],
    ['Blocked {{ group["source.ip"] }} ({{ rule.name }}, {{ event_count }} events)', 'Blocked 203.0.113.7 (Brute force, 12 events)'],
    ['no expressions', 'no expressions'],
  ])('renders %s', (source, expected) => {
    expect(render(source)).toEqual(expected);
  });

  it.each([
    ['{{ group["no.such"] }}', 'group["no.such"] is not in the alert'],
    ['{{ nothing }}', 'nothing is not in the alert'],
    ['x {{ tags }}', 'tags is an array, not text'],
    ['{{ rule.toString }}', 'rule.toString is not in the alert'],
    ['{{ sample_events.length }}', 'sample_events.length is not in the alert'],
  ])('gives a reason instead of a value for %s', (source, reason) => {
    expect(render(source)).toBe(`ERR ${reason}`);
  });

  it.each([
    ['{{ group["a"] ', 'never closed'],
    ['{{ process.exit() }}', 'cannot read'],
    ['{{ rule.constructor }}', 'may not be read'],
    ['{{ group["__proto__"] }}', 'may not be read'],
    ['{{ 1 + 1 }}', 'must start with a field name'],
    ['{{ a }} }}', 'without a matching'],
    ['{{ a }}'.repeat(17), 'more than 16'],
    ['x'.repeat(1025), 'longer than 1024'],
  ])('refuses to parse %s', (source, reason) => {
    const t = parseTemplate(source);
    expect(!t.ok && t.reason).toContain(reason);
  });
});
