import type { Alert } from '@vigil/contracts';
import { addAlert, flushGroup, type GroupArrival, type GroupState, type MuteCheck } from './grouping';
import { buildNotification, groupKey, headline } from './notification';
import { sampleAlert } from './testing';

const T0 = Date.parse('2026-11-29T10:01:00.000Z');
const S = 1_000;
const timing = { groupWaitMs: 30 * S, groupIntervalMs: 300 * S, repeatIntervalMs: 3_600 * S };
const RESOLVE = 7_200 * S;
let n = 0;

function alertAt(atMs: number, over: Partial<Alert> = {}): Alert {
  n++;
  return sampleAlert({
    alert_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    created_at: new Date(atMs).toISOString(),
    ...over,
  });
}

function arrival(alert: Alert, over: Partial<GroupArrival> = {}): GroupArrival {
  return {
    key: groupKey('root', { rule: alert.rule.id }),
    routeId: 'root',
    receivers: ['slack', 'pagerduty'],
    labels: { rule: alert.rule.id },
    timing,
    alert,
    source: { topic: 'alerts', partition: 0, offset: String(n) },
    resolveTimeoutMs: RESOLVE,
    maxAlerts: 100,
    ...over,
  };
}

const noMute: MuteCheck = () => null;

type Step =
  | { at: number; add: { dedup?: string; severity?: Alert['severity'] } }
  | {
      at: number;
      flush: 'firing' | 'resolved' | 'all_muted' | 'unchanged' | 'resolved_unnotified';
      due?: number | null;
      alerts?: number;
      muteAll?: boolean;
    };

/** Runs a timeline of arrivals and flushes against one group; every flush's result is checked. */
function run(steps: Step[]): void {
  let state: GroupState | null = null;
  for (const s of steps) {
    const now = T0 + s.at * S;
    if ('add' in s) {
      const dedup = s.add.dedup ?? 'k1';
      state = addAlert(
        state,
        arrival(alertAt(now, { dedup_key: dedup, ...(s.add.severity ? { severity: s.add.severity } : {}) })),
        now,
      ).state;
      continue;
    }
    expect(state).not.toBeNull();
    const out = flushGroup(state!, now, s.muteAll ? () => ({ reason: 'silenced', by: 's1' }) : noMute);
    const got = out.action === 'notify' ? out.status : out.reason;
    expect({ at: s.at, got }).toEqual({ at: s.at, got: s.flush });
    if (s.alerts !== undefined && out.action === 'notify') expect(out.alerts).toHaveLength(s.alerts);
    state = out.state;
    if (s.due !== undefined) expect(state ? (state.due_ms - T0) / S : null).toBe(s.due);
  }
}

describe('group timers (Alertmanager semantics, time passed in)', () => {
  it.each<[string, Step[]]>([
    [
      'a new group waits group_wait, then notifies once for the whole burst',
      [
        { at: 0, add: {} },
        { at: 1, add: { dedup: 'k2' } },
        { at: 29, add: { dedup: 'k3' } },
        { at: 30, flush: 'firing', alerts: 3, due: 30 + 3_600 },
      ],
    ],
    [
      'a new alert after the first notification waits for group_interval from the last flush',
      [
        { at: 0, add: {} },
        { at: 30, flush: 'firing', due: 3_630 },
        { at: 100, add: { dedup: 'k2' } },
        { at: 330, flush: 'firing', alerts: 2, due: 330 + 3_600 },
      ],
    ],
    [
      'a new alert long after the last flush goes out at once',
      [
        { at: 0, add: {} },
        { at: 30, flush: 'firing' },
        { at: 1_000, add: { dedup: 'k2' } },
        { at: 1_000, flush: 'firing', alerts: 2 },
      ],
    ],
    [
      'another firing of an already notified alert is not news',
      [
        { at: 0, add: {} },
        { at: 30, flush: 'firing', due: 3_630 },
        { at: 100, add: {} },
        { at: 330, flush: 'unchanged', due: 3_630 },
      ],
    ],
    [
      'an unchanged group repeats after repeat_interval',
      [
        { at: 0, add: {} },
        { at: 30, flush: 'firing' },
        { at: 3_000, add: {} },
        { at: 3_630, flush: 'firing', alerts: 1 },
      ],
    ],
    [
      'a group whose alerts stop firing resolves once, then ends',
      [
        { at: 0, add: {} },
        { at: 30, flush: 'firing', due: 3_630 },
        { at: 3_630, flush: 'firing', due: 7_200 },
        { at: 7_200, flush: 'resolved', alerts: 1, due: null },
      ],
    ],
    [
      'a group that never notified ends quietly when its alerts resolve',
      [
        { at: 0, add: {} },
        { at: 7_300, flush: 'resolved_unnotified', due: null },
      ],
    ],
    [
      'muted alerts are not sent and the group looks again after group_interval',
      [
        { at: 0, add: {} },
        { at: 30, flush: 'all_muted', muteAll: true, due: 330 },
        { at: 330, flush: 'firing', alerts: 1 },
      ],
    ],
  ])('%s', (_what, steps) => run(steps));
});

describe('addAlert', () => {
  it('counts a redelivered alert (same alert id) once', () => {
    const a = alertAt(T0);
    const first = addAlert(null, arrival(a), T0);
    const again = addAlert(first.state, arrival(a), T0 + S);
    expect(again.changed).toBe(false);
    expect(again.state.alerts[a.dedup_key]!.firings).toBe(1);
  });

  it('adds up firings of one dedup key and widens its event time range', () => {
    const a = alertAt(T0, { first_event_at: '2026-11-29T09:00:00.000Z', last_event_at: '2026-11-29T09:30:00.000Z' });
    const b = alertAt(T0 + S, { first_event_at: '2026-11-29T09:10:00.000Z', last_event_at: '2026-11-29T10:00:00.000Z', event_count: 40 });
    const s = addAlert(addAlert(null, arrival(a), T0).state, arrival(b), T0 + S).state;
    expect(s.alerts[a.dedup_key]).toMatchObject({
      firings: 2,
      event_count: 40,
      alert_id: b.alert_id,
      first_event_at: '2026-11-29T09:00:00.000Z',
      last_event_at: '2026-11-29T10:00:00.000Z',
    });
    expect(s.firings).toBe(2);
  });

  it('keeps a group bounded by evicting the alert closest to resolving', () => {
    let s: GroupState | null = null;
    const evicted: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = addAlert(s, arrival(alertAt(T0 + i * S, { dedup_key: `k${i}` }), { maxAlerts: 3 }), T0 + i * S);
      s = r.state;
      if (r.evicted) evicted.push(r.evicted);
    }
    expect(Object.keys(s!.alerts).sort()).toEqual(['k1', 'k2', 'k3']);
    expect(evicted).toEqual(['k0']);
    expect(s!.evicted).toBe(1);
  });
});

describe('buildNotification', () => {
  it('lists the most severe alerts first and gives one id per group, sequence and receiver', () => {
    let s = addAlert(null, arrival(alertAt(T0, { dedup_key: 'a', severity: 'medium' })), T0).state;
    s = addAlert(s, arrival(alertAt(T0, { dedup_key: 'b', severity: 'critical' })), T0).state;
    const out = flushGroup(s, T0 + 30 * S, noMute);
    if (out.action !== 'notify') throw new Error('expected a notification');
    const slack = buildNotification(out.state!, out, 'slack', T0 + 30 * S);
    const pd = buildNotification(out.state!, out, 'pagerduty', T0 + 30 * S);
    expect(slack.alerts.map((a) => a.dedup_key)).toEqual(['b', 'a']);
    expect(slack).toMatchObject({ seq: 1, severity: 'critical', alert_count: 2, firing_count: 2, status: 'firing' });
    expect(slack.notification_id).not.toBe(pd.notification_id);
    expect(buildNotification(out.state!, out, 'slack', T0 + 99 * S).notification_id).toBe(slack.notification_id);
    expect(headline(slack)).toBe('[CRITICAL] SSH brute force (2 alerts)');
  });
});
