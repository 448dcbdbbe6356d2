import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SecretRefSchema, TimeoutSchema, resolveSecret, type Problem, type SecretReader } from '../config-common';

const Address = z.email({ message: 'must be an email address' });

/** `email:` block of a receiver in the routes file. */
export const EmailConfigSchema = z.strictObject({
  smtp: z.strictObject({
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).optional(),
    /** tls: TLS from the first byte (port 465); starttls: upgrade required (587); none: plain (tests, local relays only). */
    security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
    username: z.string().min(1).max(256).optional(),
    /** As ${SMTP_PASSWORD}. */
    password: SecretRefSchema.optional(),
    /** PEM file of a private CA the server's certificate chains to. */
    ca_file: z.string().min(1).optional(),
    /** Name to check the certificate against, when it differs from host. */
    servername: z.string().min(1).max(253).optional(),
    timeout: TimeoutSchema,
  }),
  from: Address,
  to: z.array(Address).min(1).max(50),
  subject_prefix: z.string().max(64).default('[Vigil]'),
  send_resolved: z.boolean().default(false),
});
export type EmailConfig = z.infer<typeof EmailConfigSchema>;

export interface EmailSettings {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  auth?: { user: string; pass: string };
  ca?: string;
  servername?: string;
  timeoutMs: number;
  from: string;
  to: string[];
  subjectPrefix: string;
  sendResolved: boolean;
}

export function emailSettings(cfg: EmailConfig, path: string, read: SecretReader, problems: Problem[]): EmailSettings {
  const s = cfg.smtp;
  let auth: EmailSettings['auth'];
  if (s.username || s.password) {
    if (!s.username || !s.password) problems.push({ path: `${path}.smtp`, message: 'set both username and password, or neither' });
    else auth = { user: s.username, pass: resolveSecret(s.password, `${path}.smtp.password`, read, problems).value };
  }
  let ca: string | undefined;
  if (s.ca_file) {
    try {
      ca = readFileSync(s.ca_file, 'utf8');
    } catch (err) {
      problems.push({
        path: `${path}.smtp.ca_file`,
        message: `cannot read ${s.ca_file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      });
    }
  }
  return {
    host: s.host,
    port: s.port ?? (s.security === 'tls' ? 465 : 587),
    security: s.security,
    ...(auth ? { auth } : {}),
    ...(ca ? { ca } : {}),
    ...(s.servername ? { servername: s.servername } : {}),
    timeoutMs: s.timeout,
    from: cfg.from,
    to: cfg.to,
    subjectPrefix: cfg.subject_prefix,
    sendResolved: cfg.send_resolved,
  };
}
