import { TopicIds, topicNames } from './topics';
import { uuidV5 } from './ids';

describe('topicNames', () => {
  it('gives the design names without a namespace', () => {
    const t = topicNames();
    expect([t.eventsRaw, t.events, t.eventsDlq, t.alerts, t.responses, t.forwardDlq]).toEqual([
      'security.events.raw',
      'security.events.v1',
      'security.events.dlq',
      'security.alerts.v1',
      'security.responses.v1',
      'siem.forward.dlq',
    ]);
  });
  it('prefixes every name with the namespace', () => {
    const t = topicNames('staging');
    for (const id of TopicIds) expect(t[id].startsWith('staging.')).toBe(true);
  });
  it('refuses a namespace that is not a valid topic-name prefix', () => {
    expect(() => topicNames('bad name')).toThrow(/namespace/);
  });
});

describe('uuidV5', () => {
  it('keeps namespaces apart when calls alternate between them (the last one is cached)', () => {
    const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    const vigil = uuidV5('www.example.com');
    expect(uuidV5('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(uuidV5('www.example.com')).toBe(vigil);
    expect(vigil).not.toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same ids on a Node without one-shot crypto.hash (before 20.12)', () => {
    jest.isolateModules(() => {
      jest.doMock('node:crypto', () => ({ ...jest.requireActual<object>('node:crypto'), hash: undefined }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const old = require('./ids') as typeof import('./ids');
      expect(old.uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
      expect(old.uuidV5('raw:t/0/42')).toBe(uuidV5('raw:t/0/42'));
    });
    jest.dontMock('node:crypto');
  });

  it('is deterministic, version 5 and RFC 9562 variant', () => {
    const a = uuidV5('raw:t/0/42');
    expect(a).toBe(uuidV5('raw:t/0/42'));
    expect(a).not.toBe(uuidV5('raw:t/0/43'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('matches the RFC 9562 test vector for the DNS namespace', () => {
    // RFC 9562 appendix A.4: UUIDv5 of "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});
