export * from './env';
export * from './logger';
export * from './metrics';
export * from './health';
export * from './nest';
export type { Counter, Gauge, Histogram } from 'prom-client';
export * from './retry';
export * from './slicer';
export * from './outbound';
