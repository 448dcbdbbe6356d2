export * from './http';
export * from './firewall';
export * from './scim';
export * from './edr';
