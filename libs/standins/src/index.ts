export * from './http';
export * from './firewall';
export * from './scim';
export * from './edr';
export * from './controllable';
export * from './splunk';
export * from './elasticsearch';
export * from './sentinel';
