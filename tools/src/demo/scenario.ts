import type { Kafka } from 'kafkajs';
import type { TopicNames } from '@vigil/contracts';
import { SecurityLogger } from '@vigil/security-logger';

/** What the replayed attack must produce, for the demo's summary and the end-to-end test. */
export interface Expectation {
  /** Ids of every event the scenario published that ingest must accept. */
  eventIds: string[];
  /** Malformed messages that must end in the DLQ. */
  rejected: number;
  /** One alert per (rule, group): "rule|field=value|...". */
  alerts: string[];
  /** Addresses SOAR must block. */
  blockedIps: string[];
  /** Accounts whose disabling must wait for an analyst. */
  approvalsFor: string[];
}

export const ACTORS = {
  bruteForceIp: '203.0.113.66',
  sprayIp: '198.51.100.23',
  takeoverIp: '192.0.2.77',
  takeoverUser: 'alice',
  escalatingUser: 'bob',
  exfilUser: 'carol',
  scannerIp: '203.0.113.99',
} as const;

/** The alert key the test and the feed compare: rule id and group values in group_by order. */
export function alertKey(ruleId: string, group: Record<string, string>): string {
  return [
    ruleId,
    ...Object.keys(group)
      .sort()
      .map((k) => `${k}=${group[k]}`),
  ].join('|');
}

/**
 * A realistic replay against the shipped rules: benign office traffic, then a brute force, a
 * password spray, a brute force that succeeds, a user probing admin pages, a bulk data read, an
 * API scanner, and producers that send malformed input.
 */
export async function runScenario(
  kafka: Kafka,
  topics: TopicNames,
  brokers: string,
  say: (line: string) => void = () => undefined,
): Promise<Expectation> {
  const log = new SecurityLogger({
    application: 'webshop',
    environment: 'demo',
    brokers: brokers.split(','),
    topic: topics.eventsRaw,
    warn: () => undefined,
  });
  const ids: string[] = [];
  const phase = async (name: string, fn: () => void) => {
    say(name);
    fn();
    await log.flush();
  };
  const office = ['dave', 'erin', 'frank', 'grace', 'heidi'];

  await phase('benign office traffic: sign-ins, a mistyped password, order reads', () => {
    for (let i = 0; i < 60; i++) {
      const user = office[i % office.length]!;
      const ip = `10.20.0.${10 + (i % office.length)}`;
      if (i % 10 === 0)
        ids.push(log.authentication({ userId: user, outcome: i === 0 ? 'failure' : 'success', sourceIp: ip, method: 'password' }));
      else ids.push(log.dataAccess({ userId: user, resource: 'orders', operation: 'read', records: 1 + (i % 9), sourceIp: ip }));
    }
  });
  await phase(`brute force: 8 failed logins for "admin" from ${ACTORS.bruteForceIp}`, () => {
    for (let i = 0; i < 8; i++)
      ids.push(log.authentication({ userId: 'admin', outcome: 'failure', sourceIp: ACTORS.bruteForceIp, method: 'password' }));
  });
  await phase(`password spraying: 12 accounts tried from ${ACTORS.sprayIp}`, () => {
    for (let i = 1; i <= 12; i++)
      ids.push(log.authentication({ userId: `user${String(i).padStart(2, '0')}`, outcome: 'failure', sourceIp: ACTORS.sprayIp }));
  });
  await phase(`account takeover: 6 failures then a success for "${ACTORS.takeoverUser}" from ${ACTORS.takeoverIp}`, () => {
    for (let i = 0; i < 6; i++)
      ids.push(log.authentication({ userId: ACTORS.takeoverUser, outcome: 'failure', sourceIp: ACTORS.takeoverIp }));
  });
  // The success must come after the failures in event time, which a separate flush guarantees.
  await phase(`  ... and the guess works`, () => {
    ids.push(log.authentication({ userId: ACTORS.takeoverUser, outcome: 'success', sourceIp: ACTORS.takeoverIp }));
  });
  await phase(`privilege escalation: "${ACTORS.escalatingUser}" denied 3 times on admin pages`, () => {
    for (const page of ['/admin/users', '/admin/roles', '/admin/settings']) {
      ids.push(
        log.authorization({ userId: ACTORS.escalatingUser, resource: page, permission: 'write', granted: false, sourceIp: '10.20.0.40' }),
      );
    }
  });
  await phase(`data exfiltration: "${ACTORS.exfilUser}" reads 120 customer records in a burst`, () => {
    for (let i = 0; i < 120; i++)
      ids.push(log.dataAccess({ userId: ACTORS.exfilUser, resource: `customers/${1000 + i}`, operation: 'read', sourceIp: '10.20.0.41' }));
  });
  await phase(`API scanner: 25 rate-limited requests from ${ACTORS.scannerIp}`, () => {
    for (let i = 0; i < 25; i++) {
      ids.push(
        log.logEvent({
          eventType: 'network_event',
          severity: 'low',
          action: 'http_request',
          outcome: 'failure',
          sourceIp: ACTORS.scannerIp,
          details: { response_code: 429, path: `/api/v2/search?q=${i}` },
        }),
      );
    }
  });
  await log.close();
  if (log.stats.dropped > 0) throw new Error(`the security logger dropped ${log.stats.dropped} scenario events`);

  say('producers with bugs: a log line, a bad IP, bad enums, a prototype-pollution attempt');
  const bad = [
    'user=alice action=login result=fail',
    JSON.stringify({
      timestamp: new Date().toISOString(),
      event_type: 'authentication',
      severity: 'medium',
      source: { application: 'legacy', ip: '10.0.0.300' },
      action: 'login',
    }),
    JSON.stringify({ timestamp: 'yesterday', event_type: 'login', severity: 'urgent', source: { application: 'legacy' }, action: 'login' }),
    `{"timestamp":"${new Date().toISOString()}","event_type":"authentication","severity":"low","source":{"application":"x"},"action":"login","details":{"__proto__":{"isAdmin":true}}}`,
  ];
  // Idempotent: a retried request must not put a hand-written event on the topic twice.
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: topics.eventsRaw, acks: -1, messages: bad.map((value) => ({ value })) });
  await producer.disconnect();

  return {
    eventIds: ids,
    rejected: bad.length,
    alerts: [
      alertKey('brute_force_login', { 'source.ip': ACTORS.bruteForceIp }),
      alertKey('brute_force_login', { 'source.ip': ACTORS.sprayIp }),
      alertKey('brute_force_login', { 'source.ip': ACTORS.takeoverIp }),
      alertKey('password_spraying', { 'source.ip': ACTORS.sprayIp }),
      alertKey('brute_force_success', { 'source.ip': ACTORS.takeoverIp, 'actor.user_id': ACTORS.takeoverUser }),
      alertKey('privilege_escalation', { 'actor.user_id': ACTORS.escalatingUser }),
      alertKey('data_exfiltration', { 'actor.user_id': ACTORS.exfilUser }),
      alertKey('suspicious_api_activity', { 'source.ip': ACTORS.scannerIp }),
    ],
    blockedIps: [ACTORS.bruteForceIp, ACTORS.sprayIp, ACTORS.takeoverIp],
    approvalsFor: [ACTORS.takeoverUser, ACTORS.escalatingUser, ACTORS.exfilUser],
  };
}
