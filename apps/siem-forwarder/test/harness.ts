import { randomUUID } from 'node:crypto';
import { DlqRecordSchema, type DlqRecord, type SecurityEvent } from '@vigil/contracts';
import { Metrics, parseEnv, silentLogger } from '@vigil/runtime';
import { ElasticsearchStandin, SentinelStandin, SplunkStandin } from '@vigil/standins';
import { produceRaw, readTopic, testBrokers, uniqueName, waitFor } from '@vigil/testing';
import { ForwarderEnvSchema, forwarderConfig } from '../src/config';
import { sampleAlert, sampleEvent } from '../src/domain/fixtures';
import { SENTINEL_ALERT_COLUMNS, SENTINEL_EVENT_COLUMNS } from '../src/domain/sentinel';
import { Forwarder } from '../src/forwarder';

export const HEC_TOKEN = '5e3d1c2b-7a69-4f8e-9d0c-1b2a3f4e5d6c';
export const ES_KEY = Buffer.from('vigil-forwarder:bulk-writer-key').toString('base64');
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const APP = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
export const APP_SECRET = 'app-secret-value';
export const DCR = 'dcr-0123456789abcdef0123456789abcdef';
export const EVENT_STREAM = 'Custom-VigilSecurityEvents_CL';
export const ALERT_STREAM = 'Custom-VigilAlerts_CL';

/** The three SIEM stand-ins, configured as a real deployment would be. */
export interface Siems {
  splunk: SplunkStandin;
  es: ElasticsearchStandin;
  sentinel: SentinelStandin;
  close(): Promise<void>;
}

export async function startSiems(opts: { esMappings?: Record<string, 'long'>; splunkAck?: boolean } = {}): Promise<Siems> {
  const splunk = await SplunkStandin.start({ tokens: { [HEC_TOKEN]: { ack: opts.splunkAck ?? false, indexes: ['security'] } } });
  const es = await ElasticsearchStandin.start({ apiKeys: [ES_KEY], mappings: opts.esMappings });
  const sentinel = await SentinelStandin.start({
    tenantId: TENANT,
    clients: { [APP]: APP_SECRET },
    dcrs: { [DCR]: { streams: { [EVENT_STREAM]: SENTINEL_EVENT_COLUMNS, [ALERT_STREAM]: SENTINEL_ALERT_COLUMNS }, publishers: [APP] } },
  });
  return { splunk, es, sentinel, close: async () => void (await Promise.all([splunk.close(), es.close(), sentinel.close()])) };
}

/** Environment for a forwarder aimed at the stand-ins, with short timers for tests. */
export function forwarderEnv(namespace: string, siems: Siems, sinks: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: testBrokers().join(','),
    VIGIL_TOPIC_NAMESPACE: namespace,
    KAFKA_CREATE_TOPICS: 'false',
    SIEM_SINKS: sinks,
    SIEM_GROUP_ID_PREFIX: uniqueName('fwd'),
    SIEM_ALLOW_PLAINTEXT_HTTP: 'true',
    SIEM_FLUSH_INTERVAL_MS: '200',
    SIEM_BACKOFF_INITIAL_MS: '50',
    SIEM_BACKOFF_MAX_MS: '400',
    SIEM_BREAKER_OPEN_MS: '300',
    SIEM_REQUEST_TIMEOUT_MS: '5000',
    SIEM_PARTITIONS_CONCURRENTLY: '3',
    // These specs are about one sink's lane and its own consumer group; shared.int.spec.ts covers
    // reading once for every sink (the default).
    SIEM_READ_MODE: 'per-sink',
    SPLUNK_HEC_URL: siems.splunk.url,
    SPLUNK_HEC_TOKEN: HEC_TOKEN,
    SPLUNK_INDEX: 'security',
    ES_URL: siems.es.url,
    ES_API_KEY: ES_KEY,
    SENTINEL_DCE_URL: siems.sentinel.dceUrl,
    SENTINEL_AUTHORITY_URL: siems.sentinel.authorityUrl,
    SENTINEL_DCR_ID: DCR,
    SENTINEL_STREAM: EVENT_STREAM,
    SENTINEL_ALERT_STREAM: ALERT_STREAM,
    SENTINEL_TENANT_ID: TENANT,
    SENTINEL_CLIENT_ID: APP,
    SENTINEL_CLIENT_SECRET: APP_SECRET,
    ...extra,
  };
}

/** Starts a forwarder and waits until every sink's consumer has joined its group. */
export async function startForwarder(raw: Record<string, string>): Promise<Forwarder> {
  const config = forwarderConfig(parseEnv(ForwarderEnvSchema, raw), raw);
  const f = new Forwarder({ config, logger: silentLogger(), metrics: new Metrics('siem-forwarder', { defaultMetrics: false }) });
  await f.start();
  await waitFor('every consumer to join its group', () => f.consumers.every((c) => c.isReady), 30_000);
  return f;
}

/** The forwarders a spec started, so its afterEach stops every one of them. */
export function forwarderPool(): {
  start(raw: Record<string, string>): Promise<Forwarder>;
  /** A forwarder the spec stopped itself. */
  forget(f: Forwarder): void;
  stopAll(): Promise<void>;
} {
  const running: Forwarder[] = [];
  return {
    start: async (raw) => {
      const f = await startForwarder(raw);
      running.push(f);
      return f;
    },
    forget: (f) => void running.splice(running.indexOf(f), 1),
    stopAll: async () => {
      for (const f of running.splice(0)) await f.stop().catch(() => undefined);
    },
  };
}

export function newEvent(i: number, overrides: Partial<SecurityEvent> = {}): SecurityEvent {
  return sampleEvent({ event_id: randomUUID(), action: `login-${i}`, ...overrides });
}

export async function produceEvents(topic: string, events: readonly object[], key?: string): Promise<void> {
  if (key !== undefined)
    return produceRaw(
      topic,
      events.map((e) => JSON.stringify(e)),
      key,
    );
  // Spread over partitions like the validated topic is (keyed by source IP in production).
  const byKey = new Map<string, string[]>();
  events.forEach((e, i) => {
    const k = `k${i % 3}`;
    byKey.set(k, [...(byKey.get(k) ?? []), JSON.stringify(e)]);
  });
  for (const [k, values] of byKey) await produceRaw(topic, values, k);
}

export { sampleAlert };

export async function dlqRecords(topic: string, expected: number, timeoutMs = 15_000): Promise<DlqRecord[]> {
  const msgs = await readTopic(topic, expected, { timeoutMs, settleMs: expected === 0 ? 0 : 300 });
  return msgs.map((m) => DlqRecordSchema.parse(JSON.parse(m.value.toString())));
}
