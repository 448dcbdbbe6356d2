export * from './mapping';
export * from './parse';
export * from './condition';
export * from './detection';
export * from './translate';
