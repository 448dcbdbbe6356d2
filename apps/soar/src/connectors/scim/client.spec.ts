import { SCIM_PATCH_OP, startScimStandin, type ScimStandin } from '@vigil/standins';
import { ConnectorError, type ActionRequest } from '../types';
import { ScimConnector } from './client';

const base: Omit<ActionRequest, 'action' | 'target'> = { alertId: 'a-1', runId: 'r-1', playbookId: 'p', reason: 'Account takeover' };

describe('ScimConnector against the SCIM stand-in', () => {
  let scim: ScimStandin;
  beforeEach(async () => {
    scim = await startScimStandin({ token: 'scim-secret' });
  });
  afterEach(() => scim.close());

  const connector = (over: Partial<{ token: string; lookup: 'id' | 'userName' }> = {}) =>
    new ScimConnector({ url: `${scim.url}/`, token: over.token ?? 'scim-secret', timeoutMs: 2_000, lookup: over.lookup ?? 'userName' });

  it('finds the user by userName and PATCHes active false, then true, with an RFC 7644 PatchOp', async () => {
    const alice = scim.addUser('alice');
    await connector().execute({ ...base, action: 'disable_user', target: 'Alice' });
    expect(scim.users.get(alice.id)!.active).toBe(false);
    const patch = scim.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.body).toEqual({ schemas: [SCIM_PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    await connector().execute({ ...base, action: 'enable_user', target: 'alice' });
    expect(scim.users.get(alice.id)!.active).toBe(true);
  });

  it('uses the user id directly when lookup is id', async () => {
    const bob = scim.addUser('bob', { id: 'bob-42' });
    await connector({ lookup: 'id' }).execute({ ...base, action: 'disable_user', target: 'bob-42' });
    expect(bob.active).toBe(false);
    expect(scim.requests.map((r) => r.method)).toEqual(['PATCH']);
  });

  it.each<[string, () => ScimConnector, string, boolean]>([
    ['an unknown userName is permanent', () => connector(), 'no SCIM user with userName', false],
    ['an unknown id is a 404 and permanent', () => connector({ lookup: 'id' }), 'HTTP 404', false],
    ['a wrong token is a 401 and permanent', () => connector({ token: 'nope' }), 'HTTP 401', false],
  ])('%s', async (_name, make, message, retriable) => {
    const err = (await make()
      .execute({ ...base, action: 'disable_user', target: 'nobody' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.message).toContain(message);
    expect(err.retriable).toBe(retriable);
  });

  it('retries a 429 from the identity provider', async () => {
    scim.addUser('carol');
    scim.failNext({ status: 429, headers: { 'Retry-After': '2' } });
    const err = (await connector()
      .execute({ ...base, action: 'disable_user', target: 'carol' })
      .catch((e: unknown) => e)) as ConnectorError;
    expect(err.retriable).toBe(true);
    expect(err.retryAfterMs).toBe(2_000);
  });
});

describe('the SCIM stand-in is strict', () => {
  let scim: ScimStandin;
  beforeEach(async () => {
    scim = await startScimStandin({ token: 't' });
  });
  afterEach(() => scim.close());

  const patch = (body: unknown, contentType = 'application/scim+json', token = 't') =>
    fetch(`${scim.url}/Users/u1`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
      body: JSON.stringify(body),
    });

  it.each<[string, unknown, string, number, string | undefined]>([
    [
      'a non-boolean active',
      { schemas: [SCIM_PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: 'no' }] },
      'application/scim+json',
      400,
      'invalidValue',
    ],
    [
      'a missing PatchOp schema',
      { Operations: [{ op: 'replace', path: 'active', value: false }] },
      'application/scim+json',
      400,
      'invalidSyntax',
    ],
    [
      'an unknown path',
      { schemas: [SCIM_PATCH_OP], Operations: [{ op: 'replace', path: 'password', value: 'x' }] },
      'application/scim+json',
      400,
      'invalidPath',
    ],
    [
      'plain JSON content type',
      { schemas: [SCIM_PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
      'application/json',
      415,
      undefined,
    ],
  ])('answers %s with the SCIM error', async (_name, body, ctype, status, scimType) => {
    scim.addUser('u', { id: 'u1' });
    const res = await patch(body, ctype);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/scim+json');
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status) });
    expect(doc.scimType).toBe(scimType);
  });

  it('answers 401 without a bearer token and 404 for an unknown user', async () => {
    expect((await fetch(`${scim.url}/Users/u1`)).status).toBe(401);
    expect((await patch({ schemas: [SCIM_PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(404);
  });
});
