export * from './bulk';
