import type { Alert } from '@vigil/contracts';
import type { Seen } from '../demo/feed';
import { alertKey } from '../demo/scenario';
import type { StandinInstances } from '../standins';
import type { Expected } from './load';

/** Distinct ids found, and extra copies of them. */
export interface Copies {
  distinct: number;
  duplicates: number;
  missing: number;
}

/** Every event, alert, notification and action of one run, accounted for by id. */
export interface Account {
  produced: { events: number; junk: number; rawMessages: number | null; failedSends: number };
  validated: Copies & { unexpected: number };
  dlq: { expected: number; records: number };
  elasticsearch: Copies & { conflicts409: number };
  splunk: Copies;
  sentinel: Copies;
  alerts: {
    expected: number;
    raised: number;
    missing: string[];
    unexpected: string[];
    /** Alert messages beyond one per alert id (the same alert republished: harmless by id). */
    republished: number;
    /** Distinct alert ids beyond one per (rule, group): a second alert for the same attack. */
    duplicateAlerts: number;
  };
  notifications: {
    /** Alerts (correlation's and SOAR's) that were notified, per channel: sent / expected. */
    slack: Copies;
    pagerduty: Copies;
    webhook: Copies;
  };
  actions: {
    blocksExpected: number;
    blocksDone: number;
    /** Firewall blocks beyond the expected count per address: an action run twice. */
    runTwice: number;
    missing: number;
    /** Account disables at the identity provider (the load's only need approval: expected 0). */
    disables: number;
    soarNotifications: Copies;
  };
}

function copies(ids: Iterable<string>, times: (id: string) => number): Copies {
  const c: Copies = { distinct: 0, duplicates: 0, missing: 0 };
  for (const id of ids) {
    const n = times(id);
    if (n === 0) c.missing++;
    else {
      c.distinct++;
      c.duplicates += n - 1;
    }
  }
  return c;
}

const pages = (severity: string) => severity === 'critical' || severity === 'high';
const isSoar = (a: Alert) => a.rule.id.startsWith('soar:');

/** Counts every message on the validated topic per id (the feed keeps the set and the total). */
export function account(
  expected: Expected,
  seen: Seen,
  standins: StandinInstances,
  produced: { acked: number; failedSends: number; rawMessages: number | null },
): Account {
  const ids = new Set(expected.eventIds);
  let unexpected = 0;
  for (const id of seen.events) if (!ids.has(id)) unexpected++;
  const validatedMissing = expected.eventIds.filter((id) => !seen.events.has(id)).length;

  // Elasticsearch: one document per _id by construction; count what it was asked to create.
  const es = standins.elasticsearch;
  const created = new Map<string, number>();
  for (const req of es.log) for (const it of req) if (it.id && it.status === 201) created.set(it.id, (created.get(it.id) ?? 0) + 1);

  // Alerts: one per (rule, group) expected; the same id seen twice is a harmless republish.
  const corr = seen.alerts.filter((a) => !isSoar(a));
  const byKey = new Map<string, Set<string>>();
  for (const a of corr) {
    const k = alertKey(a.rule.id, a.group);
    const s = byKey.get(k) ?? new Set<string>();
    s.add(a.alert_id);
    byKey.set(k, s);
  }
  const expectedKeys = new Set(expected.alerts);
  const distinctIds = new Set(corr.map((a) => a.alert_id));
  let duplicateAlerts = 0;
  for (const s of byKey.values()) duplicateAlerts += s.size - 1;

  // Notifications, per alert id: the webhook lists alert ids, Slack names them, PagerDuty gets the dedup key.
  const latest = new Map<string, Alert>();
  for (const a of seen.alerts) latest.set(a.alert_id, a);
  const notified = [...latest.values()];
  // Firing notifications only: a group's "resolved" notification (after resolve_timeout) is not a duplicate.
  const slackTexts = standins.slack.received.map((m) => JSON.stringify(m.body)).filter((t) => !t.includes('*Status*\\nresolved'));
  const hookAlerts = standins.webhook.received
    .map((d) => d.body as { status?: string; alerts?: Array<{ alert_id?: string }> } | null)
    .filter((body) => body?.status !== 'resolved')
    .map((body) => new Set((body?.alerts ?? []).map((a) => a.alert_id)));
  const pdTriggers = new Map<string, number>();
  for (const e of standins.pagerduty.events)
    if (e.event_action === 'trigger') pdTriggers.set(e.dedup_key, (pdTriggers.get(e.dedup_key) ?? 0) + 1);
  const slack = copies(
    notified.map((a) => a.alert_id),
    (id) => slackTexts.filter((t) => t.includes(`alert \`${id}\``)).length,
  );
  const webhook = copies(
    notified.map((a) => a.alert_id),
    (id) => hookAlerts.filter((s) => s.has(id)).length,
  );
  const pagerduty = copies(new Set(notified.filter((a) => pages(a.severity)).map((a) => a.dedup_key)), (k) => pdTriggers.get(k) ?? 0);

  // Actions: firewall blocks per address against the blocking alerts expected for it.
  const puts = new Map<string, number>();
  for (const r of standins.firewall.requests) {
    if (r.method !== 'PUT' || r.status >= 300) continue;
    const m = /\/v1\/blocks\/([^/?]+)/.exec(r.path);
    if (m) {
      const ip = decodeURIComponent(m[1]!);
      puts.set(ip, (puts.get(ip) ?? 0) + 1);
    }
  }
  let runTwice = 0;
  let missingBlocks = 0;
  let blocksExpected = 0;
  for (const [ip, n] of expected.blocks) {
    blocksExpected += n;
    const got = puts.get(ip) ?? 0;
    runTwice += Math.max(0, got - n);
    missingBlocks += Math.max(0, n - got);
  }
  for (const [ip, got] of puts) if (!expected.blocks.has(ip)) runTwice += got;
  const soarByRun = new Map<string, Set<string>>();
  for (const a of seen.alerts.filter(isSoar)) {
    const run = a.group['soar.run_id'] ?? a.alert_id;
    const s = soarByRun.get(run) ?? new Set<string>();
    s.add(a.alert_id);
    soarByRun.set(run, s);
  }
  // One notify step per run of every playbook that matched (all but suspicious_api_activity's alerts).
  const notifyRuns = expected.alerts.filter((k) => !k.startsWith('suspicious_api_activity|')).length;
  const soarDistinct = [...soarByRun.values()].reduce((n, s) => n + s.size, 0);

  return {
    produced: {
      events: expected.eventIds.length,
      junk: expected.junk,
      rawMessages: produced.rawMessages,
      failedSends: produced.failedSends,
    },
    validated: {
      distinct: seen.events.size - unexpected,
      duplicates: seen.eventMessages - seen.events.size,
      missing: validatedMissing,
      unexpected,
    },
    dlq: { expected: expected.junk, records: seen.rejected },
    elasticsearch: { ...copies(expected.eventIds, (id) => created.get(id) ?? 0), conflicts409: es.conflicts },
    splunk: copies(expected.eventIds, (id) => standins.splunk.timesIndexed(id)),
    sentinel: copies(expected.eventIds, (id) => standins.sentinel.timesIngested(id)),
    alerts: {
      expected: expected.alerts.length,
      raised: byKey.size,
      missing: expected.alerts.filter((k) => !byKey.has(k)),
      unexpected: [...byKey.keys()].filter((k) => !expectedKeys.has(k)),
      republished: corr.length - distinctIds.size,
      duplicateAlerts,
    },
    notifications: { slack, pagerduty, webhook },
    actions: {
      blocksExpected,
      blocksDone: [...puts.values()].reduce((a, b) => a + b, 0),
      runTwice,
      missing: missingBlocks,
      disables: standins.scim.requests.filter((r) => r.method === 'PATCH' && r.status < 300).length,
      soarNotifications: {
        distinct: soarDistinct,
        duplicates: soarDistinct - soarByRun.size,
        missing: Math.max(0, notifyRuns - soarByRun.size),
      },
    },
  };
}

/** Everything the run should have ended with is there: the wait condition before accounting. */
export function complete(expected: Expected, seen: Seen, standins: StandinInstances): boolean {
  const a = account(expected, seen, standins, { acked: 0, failedSends: 0, rawMessages: null });
  return (
    a.validated.missing === 0 &&
    seen.rejected >= expected.junk &&
    a.elasticsearch.missing === 0 &&
    a.splunk.missing === 0 &&
    a.sentinel.missing === 0 &&
    a.alerts.missing.length === 0 &&
    a.actions.missing === 0 &&
    a.actions.soarNotifications.missing === 0 &&
    a.notifications.slack.missing === 0 &&
    a.notifications.webhook.missing === 0 &&
    a.notifications.pagerduty.missing === 0
  );
}
