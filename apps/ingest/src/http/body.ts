import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';

export type BodyResult = { ok: true; bytes: Buffer } | { ok: false; problem: 'too_large' | 'bad_encoding' | 'aborted'; size?: number };

/**
 * Reads a request body up to `limit` bytes (before and after gzip), stopping as soon as it is over:
 * a client cannot make the service buffer more than the limit.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return { ok: false, problem: 'too_large', size: declared };
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') return { ok: false, problem: 'bad_encoding' };
  const chunks: Buffer[] = [];
  let size = 0;
  const r = await new Promise<'ok' | 'too_large' | 'aborted'>((resolve) => {
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        cleanup();
        resolve('too_large');
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve('ok');
    };
    const onErr = () => {
      cleanup();
      resolve('aborted');
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onErr);
      req.off('aborted', onErr);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onErr);
    req.on('aborted', onErr);
  });
  if (r !== 'ok') return { ok: false, problem: r, size };
  const body = Buffer.concat(chunks, size);
  if (encoding === 'identity') return { ok: true, bytes: body };
  return new Promise((resolve) =>
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) resolve({ ok: true, bytes: out });
      else resolve({ ok: false, problem: (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too_large' : 'bad_encoding' });
    }),
  );
}
