import { errorMessage, type createKafka } from '@vigil/kafka';
import type { Logger } from '@vigil/runtime';

/** A group's committed offset per partition of one topic; a partition without one is absent. */
export type Positions = ReadonlyMap<number, number>;

/**
 * Where a group of one read mode should start on a topic when the other mode's groups have read it:
 * per partition, the smallest offset every source group has committed, when that is ahead of the
 * target's own (or the target has none). A partition some source has not committed stays as it is,
 * and nothing moves back, so switching modes neither skips an event a sink has not had nor (beyond
 * the slowest sink's last batch) sends one again.
 */
export function carriedPositions(target: Positions, sources: readonly Positions[]): Array<{ partition: number; offset: number }> {
  if (sources.length === 0) return [];
  const partitions = new Set<number>();
  for (const s of sources) for (const p of s.keys()) partitions.add(p);
  const out: Array<{ partition: number; offset: number }> = [];
  for (const partition of [...partitions].sort((a, b) => a - b)) {
    let min = Number.POSITIVE_INFINITY;
    for (const s of sources) min = Math.min(min, s.get(partition) ?? Number.NEGATIVE_INFINITY);
    if (!Number.isFinite(min)) continue;
    const own = target.get(partition);
    if (own === undefined || own < min) out.push({ partition, offset: min });
  }
  return out;
}

/**
 * Runs a broker call again while it fails with an error Kafka calls retriable (a group coordinator
 * still loading right after a broker start answers OffsetFetch with COORDINATOR_LOAD_IN_PROGRESS,
 * which kafkajs' admin passes on), with backoff, up to `deadlineMs`; any other error at once.
 */
export async function retrying<T>(
  what: string,
  call: () => Promise<T>,
  logger: Logger,
  opts: { deadlineMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const until = Date.now() + (opts.deadlineMs ?? 60_000);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await call();
    } catch (err) {
      if ((err as { retriable?: unknown }).retriable !== true || Date.now() + wait > until) throw err;
      logger.warn({ what, err: errorMessage(err), retryInMs: wait }, 'broker not ready for this yet; retrying');
      await sleep(wait);
    }
  }
}

/** A connected kafkajs admin client. */
export type Admin = ReturnType<ReturnType<typeof createKafka>['admin']>;

/** A group's committed offsets on one topic (partitions it has not committed are absent). */
async function committedOffsets(admin: Admin, logger: Logger, groupId: string, topic: string): Promise<Map<number, number>> {
  const [res] = await retrying(`offsets of ${groupId}`, () => admin.fetchOffsets({ groupId, topics: [topic] }), logger);
  const out = new Map<number, number>();
  for (const p of res?.partitions ?? []) if (Number(p.offset) >= 0) out.set(p.partition, Number(p.offset));
  return out;
}

/**
 * Before the `targets` join: carries the read position over from the groups of the other read mode
 * (carriedPositions) on each of `topics` that exists (`existing`); each source group's offsets are
 * read once for all targets. A group with members already (another instance started first) cannot
 * be moved; that is logged and left.
 */
export async function carryReadPosition(
  admin: Admin,
  existing: readonly string[],
  logger: Logger,
  opts: { targets: readonly string[]; sources: readonly string[]; topics: readonly string[] },
): Promise<void> {
  const positions = (groupId: string, topic: string) => committedOffsets(admin, logger, groupId, topic);
  for (const topic of opts.topics) {
    if (!existing.includes(topic)) continue;
    const sources = await Promise.all(opts.sources.map((g) => positions(g, topic)));
    for (const target of opts.targets) {
      const moves = carriedPositions(await positions(target, topic), sources);
      if (moves.length === 0) continue;
      try {
        await admin.setOffsets({
          groupId: target,
          topic,
          partitions: moves.map((m) => ({ partition: m.partition, offset: String(m.offset) })),
        });
        logger.info({ groupId: target, topic, from: opts.sources, moves }, 'read position carried over from the other read mode');
      } catch (err) {
        logger.warn({ groupId: target, topic, err: errorMessage(err) }, 'could not carry the read position over (group already active?)');
      }
    }
  }
}

/**
 * Records on the spill topic that `groups` (the spill groups of shared reading) have not read back:
 * after a switch to per-sink reading nothing reads them, so they are reported at start.
 */
export async function unreadSpill(
  admin: Admin,
  existing: readonly string[],
  logger: Logger,
  spillTopic: string,
  groups: readonly string[],
): Promise<Record<string, number>> {
  if (!existing.includes(spillTopic)) return {};
  const ends = await retrying('spill topic offsets', () => admin.fetchTopicOffsets(spillTopic), logger);
  const out: Record<string, number> = {};
  for (const groupId of groups) {
    const committed = await committedOffsets(admin, logger, groupId, spillTopic);
    if (committed.size === 0) continue; // never read the spill topic: not a shared-reading group
    const behind = ends.reduce((n, e) => n + Math.max(0, Number(e.high) - (committed.get(e.partition) ?? 0)), 0);
    if (behind > 0) out[groupId] = behind;
  }
  return out;
}
