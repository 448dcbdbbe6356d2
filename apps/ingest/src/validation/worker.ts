/**
 * Worker-thread entry: validates batches posted by ValidationPool. Settings (limits, integrity
 * keys) arrive once in workerData; each message is { id, nowMs, items } and is answered with
 * { id, results } or { id, error }, payloads packed as in ./wire.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { validateBatch, type ValidationSettings } from '../domain/batch';
import type { WorkerSettings } from './pool';
import { packResults, unpackItems, type ItemsMessage } from './wire';

const init = workerData as WorkerSettings;
const settings: ValidationSettings = {
  limits: init.limits,
  futureToleranceMs: init.futureToleranceMs,
  integrity: init.integrity,
  keys: new Map(init.keys.map(([id, b64]) => [id, Buffer.from(b64, 'base64')])),
};

parentPort!.on('message', (msg: { id: number; nowMs: number; items: ItemsMessage }) => {
  try {
    const { message, transfer } = packResults(validateBatch(unpackItems(msg.items), msg.nowMs, settings));
    parentPort!.postMessage({ id: msg.id, results: message }, transfer);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
