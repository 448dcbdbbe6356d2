import { z } from 'zod';
import { parseDuration } from '../domain/duration';
import type { SecretValue } from './types';

const SECRET_REF = /^\$\{([A-Z_][A-Z0-9_]{0,127})\}$/;

/**
 * A secret in the routes file is a reference, `${NAME}`: the value comes from the environment
 * variable NAME or from the file named by NAME_FILE. Literal secrets are refused so that a routes
 * file can be committed and shown without leaking anything.
 */
export const SecretRefSchema = z
  .string()
  .regex(SECRET_REF, 'must be a ${ENV_VAR} reference: secrets come from the environment (or ENV_VAR_FILE), never from the routes file');

/** A value that may be written literally or as a `${NAME}` reference. */
export const MaybeRefSchema = z.string().min(1).max(2048);

export const TimeoutSchema = z
  .string()
  .refine((v) => {
    const ms = parseDuration(v);
    return ms !== null && ms >= 100 && ms <= 120_000;
  }, 'must be a duration between 100ms and 2m')
  .default('10s')
  .transform((v) => parseDuration(v)!);

export interface Problem {
  path: string;
  message: string;
}

/** Reads NAME (or NAME_FILE); returns undefined when unset. */
export type SecretReader = (name: string) => string | undefined;

/** Resolves `${NAME}` through the reader, recording a problem (naming path and variable) when unset. */
export function resolveSecret(ref: string, path: string, read: SecretReader, problems: Problem[]): SecretValue {
  const name = SECRET_REF.exec(ref)?.[1];
  if (!name) {
    problems.push({ path, message: 'must be a ${ENV_VAR} reference' });
    return { variable: '?', value: '' };
  }
  let value: string | undefined;
  try {
    value = read(name);
  } catch (err) {
    problems.push({ path, message: (err as Error).message });
    return { variable: name, value: '' };
  }
  if (!value) problems.push({ path, message: `environment variable ${name} (or ${name}_FILE) is not set` });
  return { variable: name, value: value ?? '' };
}

/** A literal, or `${NAME}` resolved like a secret. */
export function resolveMaybeRef(text: string, path: string, read: SecretReader, problems: Problem[]): string {
  return SECRET_REF.test(text) ? resolveSecret(text, path, read, problems).value : text;
}

/** Checks that a resolved value is an http(s) URL; the message never repeats the URL (it may hold a token). */
export function checkUrl(value: string, path: string, problems: Problem[]): void {
  if (!value) return;
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push({ path, message: 'must be an http(s) URL' });
  } catch {
    problems.push({ path, message: 'is not a valid URL' });
  }
}
