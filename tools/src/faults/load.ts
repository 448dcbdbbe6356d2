import { uuidV5 } from '@vigil/contracts';
import { alertKey } from '../demo/scenario';

/**
 * A steady, deterministic load for the fault suite and the latency benchmark: background traffic
 * that feeds the shipped rules' windows without ever completing one, attacks at a fixed cadence
 * whose alerts are known in advance, and a trickle of malformed messages. Event i is a pure
 * function of (plan, i), so the generator process and the accountant agree on every id without
 * exchanging them.
 */
export interface LoadPlan {
  /** Salt of every event id: two runs never share ids. */
  runId: string;
  /** Events per second the generator aims at. */
  rate: number;
  /** Total messages (events and junk). */
  count: number;
  /** One attack starts every this many messages (0: no attacks). */
  attackEvery: number;
  /** One malformed message every this many (0: none). */
  junkEvery: number;
}

/** Attack kinds, in the order they cycle; each is written to trip exactly the alerts in ATTACK_ALERTS. */
export const ATTACK_KINDS = ['brute', 'brute', 'spray', 'scan', 'takeover', 'privesc', 'exfil'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/** Events per attack (steps); the takeover's last step is the successful login. */
const STEPS: Record<AttackKind, number> = { brute: 6, spray: 10, scan: 20, takeover: 7, privesc: 3, exfil: 100 };

/** Rules that fire for each attack kind (once each; the shipped rules suppress the rest). */
const ATTACK_ALERTS: Record<AttackKind, string[]> = {
  brute: ['brute_force_login'],
  spray: ['brute_force_login', 'password_spraying'],
  scan: ['suspicious_api_activity'],
  takeover: ['brute_force_login', 'brute_force_success'],
  privesc: ['privilege_escalation'],
  exfil: ['data_exfiltration'],
};

/** Rules the shipped brute-force-containment playbook answers with block_ip. */
const BLOCKING_RULES = new Set(['brute_force_login', 'password_spraying']);

export interface Attack {
  index: number;
  kind: AttackKind;
  ip: string;
  user: string;
}

export interface Expected {
  /** Ids of every well-formed event, in message order. */
  eventIds: string[];
  /** Malformed messages: each must end in the events DLQ. */
  junk: number;
  /** alertKey(rule, group) of every alert the load must raise, once each. */
  alerts: string[];
  /** Firewall blocks expected per address (one per blocking alert). */
  blocks: Map<string, number>;
  attacks: Attack[];
}

const ipv4 = (a: number, n: number) => `${a}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

function attackOf(plan: LoadPlan, k: number): Attack {
  const kind = ATTACK_KINDS[k % ATTACK_KINDS.length]!;
  // Attack addresses come from 100.64.0.0/10 (shared address space), background from 10/8: they never meet.
  return { index: k, kind, ip: ipv4(100, (64 << 16) | k), user: `${kind}-${k}` };
}

/** Which attack step (if any) owns each message slot; built once per plan. */
export class Schedule {
  readonly attacks: Attack[] = [];
  private readonly owner: Int32Array;
  private readonly step: Int16Array;

  constructor(readonly plan: LoadPlan) {
    this.owner = new Int32Array(plan.count).fill(-1);
    this.step = new Int16Array(plan.count);
    if (plan.attackEvery <= 0) return;
    // Steps 100 ms of load apart: an attack is over in 0.6 s (brute) to 10 s (exfil), well
    // inside every rule's window, and its events interleave with everyone else's.
    const stride = Math.max(1, Math.floor(plan.rate / 10));
    for (let k = 0; ; k++) {
      const a = attackOf(plan, k);
      const start = k * plan.attackEvery + Math.floor(plan.attackEvery / 2);
      const span = (STEPS[a.kind] - 1) * stride + STEPS[a.kind] * 2;
      if (start + span >= plan.count) break;
      let slot = start;
      for (let j = 0; j < STEPS[a.kind]; j++) {
        while (this.owner[slot] !== -1 || this.isJunk(slot)) slot++;
        this.owner[slot] = k;
        this.step[slot] = j;
        slot += stride;
      }
      this.attacks.push(a);
    }
  }

  /** Whether message i is a step of an attack (its alert is known in advance). */
  isAttack(i: number): boolean {
    return this.owner[i]! >= 0;
  }

  isJunk(i: number): boolean {
    return this.plan.junkEvery > 0 && i % this.plan.junkEvery === this.plan.junkEvery - 1 && this.owner[i] === -1;
  }

  eventId(i: number): string {
    return uuidV5(`${this.plan.runId}|${i}`);
  }

  /** Partition key and bytes of message i, stamped `timestampIso`. */
  message(i: number, timestampIso: string): { key: string; value: string } {
    if (this.isJunk(i)) return { key: `junk-${i}`, value: junk(i, timestampIso) };
    const k = this.owner[i]!;
    const id = this.eventId(i);
    if (k >= 0) {
      const a = this.attacks[k]!;
      const e = attackEvent(a, this.step[i]!, id, timestampIso);
      return { key: e.source.ip, value: JSON.stringify(e) };
    }
    const e = backgroundEvent(i, id, timestampIso);
    return { key: e.source.ip, value: JSON.stringify(e) };
  }

  expected(): Expected {
    const eventIds: string[] = [];
    let junkCount = 0;
    for (let i = 0; i < this.plan.count; i++) {
      if (this.isJunk(i)) junkCount++;
      else eventIds.push(this.eventId(i));
    }
    const alerts: string[] = [];
    const blocks = new Map<string, number>();
    for (const a of this.attacks) {
      for (const rule of ATTACK_ALERTS[a.kind]) {
        alerts.push(alertKey(rule, groupOf(rule, a)));
        if (BLOCKING_RULES.has(rule)) blocks.set(a.ip, (blocks.get(a.ip) ?? 0) + 1);
      }
    }
    return { eventIds, junk: junkCount, alerts, blocks, attacks: this.attacks };
  }
}

function groupOf(rule: string, a: Attack): Record<string, string> {
  switch (rule) {
    case 'brute_force_success':
      return { 'source.ip': a.ip, 'actor.user_id': a.user };
    case 'privilege_escalation':
    case 'data_exfiltration':
      return { 'actor.user_id': a.user };
    default:
      return { 'source.ip': a.ip };
  }
}

interface RawEvent {
  event_id: string;
  timestamp: string;
  event_type: string;
  severity: string;
  source: { application: string; environment: string; ip: string; hostname: string };
  actor?: Record<string, string>;
  action: string;
  outcome: string;
  target?: Record<string, string>;
  details: Record<string, unknown>;
  tags: string[];
}

function base(id: string, ts: string, ip: string, i: number): Pick<RawEvent, 'event_id' | 'timestamp' | 'source' | 'tags'> {
  return {
    event_id: id,
    timestamp: ts,
    source: { application: 'webshop', environment: 'faults', ip, hostname: `web-${i % 16}` },
    tags: ['load'],
  };
}

function attackEvent(a: Attack, step: number, id: string, ts: string): RawEvent {
  const b = base(id, ts, a.ip, a.index);
  const login = (user: string, outcome: string): RawEvent => ({
    ...b,
    event_type: 'authentication',
    severity: 'medium',
    actor: { type: 'user', user_id: user },
    action: 'login',
    outcome,
    details: { method: 'password' },
  });
  switch (a.kind) {
    case 'brute':
      return login('admin', 'failure');
    case 'spray':
      return login(`spray-${a.index}-${step}`, 'failure');
    case 'takeover':
      return login(a.user, step === STEPS.takeover - 1 ? 'success' : 'failure');
    case 'scan':
      return {
        ...b,
        event_type: 'network_event',
        severity: 'low',
        action: 'http_request',
        outcome: 'failure',
        details: { response_code: 429, path: `/api/v2/search?q=${step}` },
      };
    case 'privesc':
      return {
        ...b,
        source: { ...b.source, ip: '172.16.0.10' },
        event_type: 'authorization',
        severity: 'medium',
        actor: { type: 'user', user_id: a.user },
        action: 'access',
        outcome: 'denied',
        target: { resource: `/admin/settings/${step}` },
        details: { permission: 'write' },
      };
    case 'exfil':
      return {
        ...b,
        source: { ...b.source, ip: '172.16.0.11' },
        event_type: 'data_access',
        severity: 'low',
        actor: { type: 'user', user_id: a.user },
        action: 'read',
        outcome: 'success',
        target: { resource: `customers/${step}` },
        details: { records: 1 },
      };
  }
}

/**
 * Background traffic: reads by 50 000 users (at 10 000 events/s at most ~30 per user in any five
 * minutes, far below the exfiltration rule's 100), sign-ins, single failed logins and refused API
 * calls each from an address used once, and denied non-admin requests.
 */
function backgroundEvent(i: number, id: string, ts: string): RawEvent {
  const user = `user-${(i * 7919) % 50_000}`;
  const oneOff = ipv4(10, i & 0xffffff);
  const office = ipv4(10, (200 << 16) | (i % 4096));
  const b = base(id, ts, office, i);
  switch (i % 10) {
    case 5:
      return {
        ...b,
        event_type: 'authentication',
        severity: 'info',
        actor: { type: 'user', user_id: user },
        action: 'login',
        outcome: 'success',
        details: { method: 'sso' },
      };
    case 6:
      return {
        ...b,
        source: { ...b.source, ip: oneOff },
        event_type: 'authentication',
        severity: 'low',
        actor: { type: 'user', user_id: user },
        action: 'login',
        outcome: 'failure',
        details: { method: 'password' },
      };
    case 7:
      return {
        ...b,
        event_type: 'network_event',
        severity: 'info',
        action: 'http_request',
        outcome: 'success',
        details: { response_code: 200, bytes: 512 + (i % 1000) },
      };
    case 8:
      return {
        ...b,
        source: { ...b.source, ip: oneOff },
        event_type: 'network_event',
        severity: 'low',
        action: 'http_request',
        outcome: 'failure',
        details: { response_code: 401 },
      };
    case 9:
      return {
        ...b,
        event_type: 'authorization',
        severity: 'low',
        actor: { type: 'user', user_id: user },
        action: 'access',
        outcome: 'denied',
        target: { resource: `/reports/${i % 50}` },
        details: {},
      };
    default:
      return {
        ...b,
        event_type: 'data_access',
        severity: 'info',
        actor: { type: 'user', user_id: user, session_id: `s-${i % 9000}` },
        action: 'read',
        outcome: 'success',
        target: { resource: `orders/${i % 100_000}` },
        details: { records: 1 + (i % 9) },
      };
  }
}

/** Producers with bugs: a log line, a bad address, bad enums, a prototype-pollution attempt, not UTF-8. */
function junk(i: number, ts: string): string {
  switch (i % 5) {
    case 0:
      return `user=alice action=login result=fail seq=${i}`;
    case 1:
      return JSON.stringify({
        timestamp: ts,
        event_type: 'authentication',
        severity: 'medium',
        source: { application: 'legacy', ip: '10.0.0.300' },
        action: 'login',
      });
    case 2:
      return JSON.stringify({
        timestamp: 'yesterday',
        event_type: 'login',
        severity: 'urgent',
        source: { application: 'legacy' },
        action: 'login',
      });
    case 3:
      return `{"timestamp":"${ts}","event_type":"authentication","severity":"low","source":{"application":"x"},"action":"login","details":{"__proto__":{"isAdmin":true}}}`;
    default:
      return JSON.stringify([{ seq: i }]);
  }
}

/** Where a prebuilt message's timestamp goes: as long as an ISO-8601 instant, and found nowhere else. */
const STAMP = '0000-00-00T00:00:00.000Z';

/**
 * Message i of the first `count` of a schedule, stamped `iso`. With `count` up to `prebuildMax`
 * every message is built here, once, and sending only puts the timestamp in; above it each is
 * built when asked for. Either way the bytes are those of `schedule.message(i, iso)`.
 */
export function messageSource(
  schedule: Schedule,
  count: number,
  prebuildMax: number,
): (i: number, iso: string) => { key: string; value: string } {
  if (count > prebuildMax) return (i, iso) => schedule.message(i, iso);
  const built = Array.from({ length: count }, (_, i) => schedule.message(i, STAMP));
  return (i, iso) => {
    const m = built[i]!;
    return { key: m.key, value: m.value.replaceAll(STAMP, iso) };
  };
}
