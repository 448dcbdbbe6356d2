export * from './config';
export * from './client';
export * from './errors';
export * from './producer';
export * from './partitioner';
export * from './consumer';
export * from './dlq';
export * from './admin';
