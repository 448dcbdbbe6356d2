import { AlertSchema, SOAR_NOTIFY_TAG, describeIssues, toIssues, uuidV5, type Alert, type ResponseAction } from '@vigil/contracts';
import type { Producer } from '@vigil/kafka';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from '../types';

/**
 * `notify` hands a message to the alert router: an Alert v1 on the alerts topic, tagged
 * SOAR_NOTIFY_TAG, whose rule is `soar:<playbook>` and whose name is the message. The router routes
 * it like any alert (routes may match the tag); SOAR itself ignores alerts with the tag, so a
 * notification never starts a playbook. The id is derived from the run and message, so a retried
 * step republishes the same alert.
 */
export class AlertRouterConnector implements Connector {
  readonly name = 'alert_router' as const;
  readonly actions: readonly ResponseAction[] = ['notify'];

  constructor(
    private readonly producer: Producer,
    private readonly alertsTopic: string,
    private readonly now: () => number = Date.now,
  ) {}

  build(req: ActionRequest, playbookId: string): Alert {
    const src = req.alert;
    const message = (req.message ?? '').slice(0, 2048);
    const nowIso = new Date(this.now()).toISOString();
    return {
      schema_version: 1,
      alert_id: uuidV5(`soar-notify|${req.runId}|${message}`),
      dedup_key: `soar:${playbookId}|${src?.dedup_key ?? req.alertId}`.slice(0, 512),
      rule: {
        id: `soar:${playbookId}`.slice(0, 256),
        name: message.slice(0, 256) || 'SOAR notification',
        description: message,
        kind: src?.rule.kind ?? 'threshold',
      },
      severity: req.severity ?? 'info',
      group: { ...(src?.group ?? {}), 'soar.alert_id': req.alertId, 'soar.run_id': req.runId },
      event_count: src?.event_count ?? 0,
      first_event_at: src?.first_event_at ?? nowIso,
      last_event_at: src?.last_event_at ?? nowIso,
      sample_events: [],
      tags: [...(src?.tags ?? []).filter((t) => t !== SOAR_NOTIFY_TAG).slice(0, 63), SOAR_NOTIFY_TAG],
      created_at: nowIso,
    };
  }

  async execute(req: ActionRequest): Promise<ActionResult> {
    const alert = this.build(req, req.playbookId);
    const check = AlertSchema.safeParse(alert);
    if (!check.success) throw new ConnectorError(`notification is not a valid alert: ${describeIssues(toIssues(check.error))}`, false);
    const audit = { topic: this.alertsTopic, alert_id: alert.alert_id };
    try {
      await this.producer.send([{ topic: this.alertsTopic, key: alert.dedup_key, value: JSON.stringify(alert) }]);
    } catch (err) {
      throw new ConnectorError(`publishing the notification failed: ${(err as Error).message}`, true, audit);
    }
    return { request: audit, summary: `notification alert ${alert.alert_id} published` };
  }
}
