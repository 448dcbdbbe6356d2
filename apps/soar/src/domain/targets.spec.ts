import { checkBlockableIp, checkHost, checkUserId, parseNetwork, parseNetworks, formatNetwork, type IpPolicy } from './targets';

const allow = parseNetworks(['10.0.0.0/8', '127.0.0.0/8', '192.0.2.10', '2001:db8:ffff::/48']);
if (!allow.ok) throw new Error(allow.reason);
const policy: IpPolicy = { neverBlock: allow.value, minPrefixV4: 16, minPrefixV6: 48 };

describe('parseNetwork', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.0/24', '203.0.113.0/24'],
    ['203.0.113.7/32', '203.0.113.7'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['::ffff:198.51.100.4', '198.51.100.4'],
    ['2001:db8:0:1:0:0:0:0/64', '2001:db8:0:1::/64'],
  ])('reads %s as %s', (input, expected) => {
    const r = parseNetwork(input);
    expect(r.ok && formatNetwork(r.value)).toBe(expected);
  });

  it.each([
    ['203.0.113.7; rm -rf /', 'not an IP address'],
    ['$(reboot)', 'not an IP address'],
    ['203.0.113.7 } ; flush ruleset', 'not an IP address'],
    ['203.0.113.7/24', 'host bits set'],
    ['203.0.113.0/33', 'prefix'],
    ['203.0.113.0/+8', 'prefix'],
    ['fe80::1%eth0', 'not an IP address'],
    ['203.0.113.7:22', 'not an IP address'],
    ['1'.repeat(100), 'longer than any IP'],
    ['', 'is empty'],
  ])('refuses %j (%s)', (input, reason) => {
    const r = parseNetwork(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it.each([
    [42, 'got number'],
    [{ ip: '1.2.3.4' }, 'got object'],
    [['1.2.3.4'], 'got an array'],
    [null, 'got null'],
  ])('refuses a value of the wrong type: %j', (input, reason) => {
    const r = parseNetwork(input);
    expect(!r.ok && r.reason).toContain(reason);
  });
});

describe('checkBlockableIp', () => {
  it.each([
    ['10.1.2.3', 'never-block allowlist (10.0.0.0/8)'],
    ['192.0.2.10', 'never-block allowlist (192.0.2.10)'],
    ['192.0.2.0/24', 'never-block allowlist (192.0.2.10)'],
    ['127.0.0.1', 'never-block'],
    ['::ffff:10.9.9.9', 'never-block'],
    ['2001:db8:ffff:1::5', 'never-block'],
    ['0.0.0.0/0', 'wider than /16'],
    ['198.0.0.0/8', 'wider than /16'],
    ['2001:db8::/32', 'wider than /48'],
  ])('refuses to block %s', (input, reason) => {
    const r = checkBlockableIp(input, policy);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['2001:db8:1::7', '2001:db8:1::7'],
  ])('allows blocking %s', (input, expected) => {
    expect(checkBlockableIp(input, policy)).toEqual({ ok: true, value: expected });
  });
});

describe('checkUserId and checkHost', () => {
  it.each([
    ['alice', true],
    ['alice.smith@example.com', true],
    ['svc-backup_01', true],
    ['alice; rm -rf /', false],
    ['alice`id`', false],
    ['../admin', false],
    ['a b', false],
    ['x'.repeat(129), false],
    ['', false],
  ])('user id %j is accepted: %s', (input, ok) => {
    expect(checkUserId(input).ok).toBe(ok);
  });

  it('refuses a user on the never-disable list, whatever the case', () => {
    const r = checkUserId('BreakGlass', new Set(['breakglass']));
    expect(!r.ok && r.reason).toContain('never-disable');
  });

  it.each([
    ['web-01', true],
    ['web-01.prod.example.com', true],
    ['WEB-01', true],
    ['-web', false],
    ['web_01', false],
    ['web-01 && curl evil', false],
    ['web-01\nx', false],
    [`${'a'.repeat(63)}.`.repeat(5), false],
  ])('host %j is accepted: %s', (input, ok) => {
    expect(checkHost(input).ok).toBe(ok);
  });

  it('lower-cases host names and refuses a never-isolate host', () => {
    expect(checkHost('WEB-01')).toEqual({ ok: true, value: 'web-01' });
    expect(checkHost('DC-01', new Set(['dc-01'])).ok).toBe(false);
  });

  it('escapes control characters when it echoes a refused value', () => {
    const r = checkUserId('bob\u0007\n');
    expect(!r.ok && r.reason).toContain('bob\\x07\\x0a');
  });
});
