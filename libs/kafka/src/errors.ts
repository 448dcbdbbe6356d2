/**
 * Retriable: the world is temporarily unavailable (broker, Redis, sink) and trying again later
 * may succeed. Non-retriable: the input itself is wrong, so it goes to a DLQ instead.
 */
export class RetriableError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetriableError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
