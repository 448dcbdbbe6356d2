/**
 * Worker-thread entry: validates batches posted by ValidationPool. Settings (limits, integrity
 * keys) arrive once in workerData; each message is { id, nowMs, items } and is answered with
 * { id, results } or { id, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { validateBatch, type RawItem, type ValidationSettings } from '../domain/batch';
import type { WorkerSettings } from './pool';

const init = workerData as WorkerSettings;
const settings: ValidationSettings = {
  limits: init.limits,
  futureToleranceMs: init.futureToleranceMs,
  integrity: init.integrity,
  keys: new Map(init.keys.map(([id, b64]) => [id, Buffer.from(b64, 'base64')])),
};

parentPort!.on('message', (msg: { id: number; nowMs: number; items: RawItem[] }) => {
  try {
    parentPort!.postMessage({ id: msg.id, results: validateBatch(msg.items, msg.nowMs, settings) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
