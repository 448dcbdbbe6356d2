import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@vigil/runtime';
import { validateBatch, type ItemResult, type RawItem, type ValidationSettings } from '../domain/batch';
import { packItems, unpackResults, type ResultsMessage } from './wire';

/** ValidationSettings in a form that crosses into a worker (keys as base64). */
export interface WorkerSettings extends Omit<ValidationSettings, 'keys'> {
  keys: Array<[string, string]>;
}

interface Slot {
  worker: Worker;
  busy: number;
}

const WORKER_SCRIPT = join(__dirname, 'worker.js');

/**
 * Runs batch validation on worker threads, so JSON parsing, schema checks and serialisation use a
 * core the consumer's thread (busy with the Kafka protocol) does not. With `size` 0, or when the
 * compiled worker is absent (tests run from TypeScript sources), it validates inline.
 * A worker that dies fails its in-flight batch (the consumer retries it) and is replaced.
 */
export class ValidationPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (r: ItemResult<string | Buffer>[]) => void; reject: (e: Error) => void; slot: Slot }
  >();
  private nextId = 1;
  private closed = false;
  readonly inline: boolean;

  constructor(
    private readonly settings: ValidationSettings,
    size: number,
    private readonly logger: Logger,
  ) {
    this.inline = size === 0 || !existsSync(WORKER_SCRIPT);
    if (!this.inline) for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  async run(items: RawItem[], nowMs: number): Promise<ItemResult<string | Buffer>[]> {
    if (this.inline) return validateBatch(items, nowMs, this.settings);
    if (this.closed) throw new Error('validation pool is closed');
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<ItemResult<string | Buffer>[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      const { message, transfer } = packItems(items);
      slot.worker.postMessage({ id, nowMs, items: message }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const workerData: WorkerSettings = {
      limits: this.settings.limits,
      futureToleranceMs: this.settings.futureToleranceMs,
      integrity: this.settings.integrity,
      keys: [...this.settings.keys].map(([id, key]) => [id, key.toString('base64')]),
    };
    const worker = new Worker(WORKER_SCRIPT, { workerData, resourceLimits: { maxOldGenerationSizeMb: 512 } });
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (msg: { id: number; results?: ResultsMessage; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      slot.busy--;
      if (msg.results) p.resolve(unpackResults(msg.results));
      else p.reject(new Error(`validation worker failed: ${msg.error ?? 'unknown error'}`));
    });
    worker.on('error', (err) => this.logger.error({ err: err.message }, 'validation worker crashed'));
    worker.on('exit', (code) => {
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(new Error(`validation worker exited (code ${code})`));
      }
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
      this.logger.warn({ code }, 'validation worker replaced');
    });
    return slot;
  }
}
