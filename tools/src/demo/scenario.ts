import type { Kafka } from 'kafkajs';
import type { TopicNames } from '@vigil/contracts';
import { SecurityLogger } from '@vigil/security-logger';
import type { Counts } from './feed';

const ATTACKER = '203.0.113.66';

/**
 * A short, realistic replay: benign sign-ins and reads from an office network, a password
 * brute force from one address, and producers that send malformed input. Returns how many
 * validated and rejected messages the feed should see.
 */
export async function runScenario(kafka: Kafka, topics: TopicNames, brokers: string): Promise<Counts> {
  const log = new SecurityLogger({
    application: 'demo-webshop',
    environment: 'demo',
    brokers: brokers.split(','),
    topic: topics.eventsRaw,
    warn: () => undefined,
  });
  let events = 0;
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
  for (let i = 0; i < 40; i++) {
    const user = users[i % users.length]!;
    const ip = `10.20.0.${10 + (i % 5)}`;
    if (i % 4 === 0) log.authentication({ userId: user, outcome: 'success', sourceIp: ip, method: 'password' });
    else log.dataAccess({ userId: user, resource: 'orders', operation: 'read', records: 1 + (i % 9), sourceIp: ip });
    events++;
  }
  for (let i = 0; i < 8; i++) {
    log.authentication({ userId: 'admin', outcome: 'failure', sourceIp: ATTACKER, method: 'password', severity: 'high' });
    events++;
  }
  await log.close();

  // Producers with bugs: the DLQ gets each with a reason; nothing else is held up.
  const bad = [
    'user=alice action=login result=fail',
    JSON.stringify({
      timestamp: '2026-11-29T10:00:00Z',
      event_type: 'authentication',
      severity: 'medium',
      source: { application: 'legacy', ip: '10.0.0.300' },
      action: 'login',
    }),
    JSON.stringify({ timestamp: 'yesterday', event_type: 'login', severity: 'urgent', source: { application: 'legacy' }, action: 'login' }),
    JSON.stringify({
      timestamp: '2026-11-29T10:00:00Z',
      event_type: 'authentication',
      severity: 'low',
      source: { application: 'x' },
      action: 'login',
      details: JSON.parse('{"__proto__":{"isAdmin":true}}') as unknown,
    }),
  ];
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: topics.eventsRaw, acks: -1, messages: bad.map((value) => ({ value })) });
  await producer.disconnect();
  return { events, rejected: bad.length };
}
