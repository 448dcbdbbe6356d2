import type { Alert, Notification } from '@vigil/contracts';
import { addAlert, flushGroup, type GroupState } from '../domain/grouping';
import { buildNotification, groupKey } from '../domain/notification';
import { sampleAlert } from '../domain/testing';

/** A notification as the scheduler would build it, from the given alerts (tests of channels). */
export function sampleNotification(
  alerts: Partial<Alert>[] = [{}],
  opts: { receiver?: string; resolved?: boolean; nowMs?: number } = {},
): Notification {
  const now = opts.nowMs ?? Date.parse('2026-11-29T10:02:00.000Z');
  const key = groupKey('root', { rule: 'ssh_brute_force' });
  let state: GroupState | null = null;
  alerts.forEach((over, i) => {
    const alert = sampleAlert({
      alert_id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      created_at: new Date(now - 1_000).toISOString(),
      ...over,
    });
    state = addAlert(
      state,
      {
        key,
        routeId: 'root',
        receivers: ['r'],
        labels: { rule: alert.rule.id },
        timing: { groupWaitMs: 0, groupIntervalMs: 60_000, repeatIntervalMs: 3_600_000 },
        alert,
        source: { topic: 'alerts', partition: 0, offset: String(i) },
        resolveTimeoutMs: 300_000,
        maxAlerts: 100,
      },
      now - 1_000,
    ).state;
  });
  const out = flushGroup(state!, now, () => null);
  if (out.action !== 'notify') throw new Error('expected a notification');
  return buildNotification(out.state!, opts.resolved ? { ...out, status: 'resolved' } : out, opts.receiver ?? 'r', now);
}
