import * as crypto from 'node:crypto';

/** Namespace for ids Vigil derives itself (RFC 9562 name-based, SHA-1, version 5). */
export const VIGIL_UUID_NAMESPACE = '6f1b7c1e-3d0a-5b8e-9c4e-2a7d1f0e9b35';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** One-shot hashing (Node 20.12+): half the cost of a Hash object for inputs this small. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;

// The namespace's bytes, kept for the namespace last used (nearly always Vigil's own).
let lastNamespace = '';
let lastNamespaceBytes: Buffer = Buffer.alloc(0);

function sha1(namespace: string, name: string): Buffer {
  if (namespace !== lastNamespace) {
    lastNamespaceBytes = uuidBytes(namespace);
    lastNamespace = namespace;
  }
  if (oneShotHash) return oneShotHash('sha1', Buffer.concat([lastNamespaceBytes, Buffer.from(name, 'utf8')]), 'buffer');
  return crypto.createHash('sha1').update(lastNamespaceBytes).update(name, 'utf8').digest();
}

/**
 * A deterministic UUID (version 5) for a name. Used where a retry must produce the same id as the
 * first attempt: an event without event_id gets one from its raw-topic position; an alert gets one
 * from its rule, group and window.
 */
export function uuidV5(name: string, namespace: string = VIGIL_UUID_NAMESPACE): string {
  const hash = sha1(namespace, name);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
