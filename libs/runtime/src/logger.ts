import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths redacted from every log line. Fixed at start-up (pino compiles them once), so a secret
 * that reaches a logger under one of these names is never written.
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  'apiKey',
  'api_key',
  'routingKey',
  'routing_key',
  'webhookUrl',
  'webhook_url',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.Authorization',
  '*.apiKey',
  '*.api_key',
  '*.routingKey',
  '*.routing_key',
  '*.webhookUrl',
  '*.webhook_url',
  '*.clientSecret',
  '*.client_secret',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'sasl.password',
  'config.sasl.password',
];

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Extra paths a service knows to be secret. */
  redact?: string[];
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.service,
      level: opts.level ?? 'info',
      base: { service: opts.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS, ...(opts.redact ?? [])], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination,
  );
}

/** A logger that drops everything: for unit tests of code that takes a logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
