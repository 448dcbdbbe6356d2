export * from './logs-ingestion';
