import type { Notification } from '@vigil/contracts';
import { headline } from '../../domain/notification';

/** HTML escaping for text placed in element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function groupText(g: Record<string, string>): string {
  return Object.entries(g)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** Subject, plain text and HTML of the email for a notification. Header values lose CR/LF. */
export function renderEmail(n: Notification, subjectPrefix: string): { subject: string; text: string; html: string } {
  const subject = `${subjectPrefix ? `${subjectPrefix} ` : ''}${headline(n)}`.replace(/[\r\n]+/g, ' ').slice(0, 250);
  const lines = [
    headline(n),
    '',
    `Status:     ${n.status}`,
    `Severity:   ${n.severity}`,
    `Alerts:     ${n.alert_count} (${n.firing_count} firings)`,
    `Time range: ${n.first_event_at} - ${n.last_event_at}`,
    `Route:      ${n.route}`,
    '',
    ...n.alerts.map(
      (a) =>
        `- [${a.severity}] ${a.rule_name} (${a.rule_id}) ${groupText(a.group)}: ${a.event_count} events, ${a.firings} alerts, alert ${a.alert_id}`,
    ),
    ...(n.alert_count > n.alerts.length ? [`... and ${n.alert_count - n.alerts.length} more`] : []),
    '',
    `Notification ${n.notification_id} (group ${n.group_key}, #${n.seq})`,
  ];
  const rows = n.alerts
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.severity)}</td><td>${escapeHtml(a.rule_name)}<br><code>${escapeHtml(a.rule_id)}</code></td><td>${escapeHtml(groupText(a.group))}</td><td>${a.event_count}</td><td>${a.firings}</td><td><code>${escapeHtml(a.alert_id)}</code></td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html><body style="font-family: sans-serif">
<h2>${escapeHtml(headline(n))}</h2>
<p><b>Status:</b> ${escapeHtml(n.status)} &middot; <b>Severity:</b> ${escapeHtml(n.severity)} &middot; <b>Alerts:</b> ${n.alert_count} (${n.firing_count} firings)<br>
<b>Time range:</b> ${escapeHtml(n.first_event_at)} &ndash; ${escapeHtml(n.last_event_at)} &middot; <b>Route:</b> ${escapeHtml(n.route)}</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>Severity</th><th>Rule</th><th>Group</th><th>Events</th><th>Alerts</th><th>Alert id</th></tr>
${rows}
</table>
${n.alert_count > n.alerts.length ? `<p>&hellip; and ${n.alert_count - n.alerts.length} more</p>` : ''}
<p style="color:#666">Notification <code>${escapeHtml(n.notification_id)}</code> (group <code>${escapeHtml(n.group_key)}</code>, #${n.seq})</p>
</body></html>`;
  return { subject, text: lines.join('\n'), html };
}
