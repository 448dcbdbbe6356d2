import type { Alert, SecurityEvent } from '@vigil/contracts';
import { toEcs, toEcsAlert } from './ecs';
import { toOcsf, toOcsfAlert } from './ocsf';

/** The document shapes a sink may write: Vigil's own, ECS or OCSF. */
export const DOCUMENT_FORMATS = ['vigil', 'ecs', 'ocsf'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/** An event in the chosen shape (`vigil` = the SecurityEvent itself). */
export function eventDocument(e: SecurityEvent, format: DocumentFormat): Record<string, unknown> {
  if (format === 'ecs') return toEcs(e);
  if (format === 'ocsf') return toOcsf(e);
  return e;
}

/** An alert in the chosen shape (`vigil` = the Alert itself). */
export function alertDocument(a: Alert, format: DocumentFormat): Record<string, unknown> {
  if (format === 'ecs') return toEcsAlert(a);
  if (format === 'ocsf') return toOcsfAlert(a);
  return a;
}
