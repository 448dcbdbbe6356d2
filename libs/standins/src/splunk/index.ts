export * from './hec';
