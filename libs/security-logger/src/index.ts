export * from './logger';
export * from './denylist';
