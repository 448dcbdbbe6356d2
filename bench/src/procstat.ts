import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { ROOT } from './lib';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux everywhere that matters). */
const TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Kafka and Redis as the infra script started them (their pid files), for their CPU share. */
export function infraPids(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, file] of [
    ['kafka', join(ROOT, '.cache', 'infra', 'kafka', 'kafka.pid')],
    ['redis', join(ROOT, '.cache', 'infra', 'redis', 'redis.pid')],
  ] as const) {
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (cpuSeconds(pid) !== null) out[name] = pid;
  }
  return out;
}

/** CPU used by each named process between start() and stop(), in seconds. */
export class CpuMeter {
  private readonly before = new Map<string, number>();
  private readonly after = new Map<string, number>();
  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  start(): void {
    for (const [name, pid] of Object.entries(this.pids())) if (pid) this.before.set(name, cpuSeconds(pid) ?? 0);
  }

  stop(): Record<string, number> {
    for (const [name, pid] of Object.entries(this.pids())) if (pid) this.after.set(name, cpuSeconds(pid) ?? 0);
    const out: Record<string, number> = {};
    for (const [name, b] of this.before) if (this.after.has(name)) out[name] = this.after.get(name)! - b;
    return out;
  }
}

/** The machine's load when a figure was taken (others share these two cores). */
export function machineLoad(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** Committed offsets of a group on a topic, summed over partitions, with a connected admin. */
export async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (res?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}
