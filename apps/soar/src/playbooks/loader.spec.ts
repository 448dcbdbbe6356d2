import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResponseAction } from '@vigil/contracts';
import type { ConnectorName } from '../domain/playbook';
import { loadPlaybooks, parsePlaybook } from './loader';

const defaults: Record<ResponseAction, ConnectorName> = {
  block_ip: 'denylist',
  unblock_ip: 'denylist',
  disable_user: 'scim',
  enable_user: 'scim',
  isolate_host: 'edr',
  release_host: 'edr',
  notify: 'alert_router',
};
const all = { available: new Set<ConnectorName>(['denylist', 'firewall', 'nftables', 'scim', 'edr', 'alert_router']), defaults };

describe('playbook loading', () => {
  it('loads the shipped example playbooks', () => {
    const pbs = loadPlaybooks(resolve(__dirname, '../../playbooks'), all);
    expect(pbs.map((p) => p.id)).toEqual(['account-takeover', 'brute-force-containment', 'data-exfiltration']);
  });

  it.each<[string, string]>([
    [
      'id: x\ntrigger: {rule_id: r}\nsteps:\n  - action: block_ip\n    target: "{{ group[\'ip\'] "\n',
      'bad.yaml: steps[0].target: "{{" at 0 is never closed',
    ],
    [
      'id: x\ntrigger: {rule_id: r}\nsteps:\n  - action: notify\n    message: hi\n    duration: 1h\n',
      'bad.yaml: steps[0].duration: notify cannot be undone',
    ],
    ['id: x\nid: y\n', 'bad.yaml: YAML (line 2, column 1): Map keys must be unique'],
    ['id: x\ntrigger: {rule_id: r}\nsteps: []\n', 'bad.yaml: steps: Too small'],
    [
      'id: x\ntrigger: {rule_id: r}\nsteps:\n  - action: isolate_host\n    target: h\n',
      'bad.yaml: steps[0].connector: isolate_host would run on edr, which is not configured',
    ],
  ])('refuses %j naming the file and the path', (text, message) => {
    const some = { available: new Set<ConnectorName>(['denylist', 'scim', 'alert_router']), defaults };
    expect(() => parsePlaybook(text, 'bad.yaml', some)).toThrow(message);
  });

  it('refuses two playbooks with one id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-'));
    const text = 'id: same\ntrigger: {rule_id: r}\nsteps:\n  - action: notify\n    message: m\n';
    writeFileSync(join(dir, 'a.yaml'), text);
    writeFileSync(join(dir, 'b.yml'), text);
    expect(() => loadPlaybooks(dir, all)).toThrow(/b\.yml: id: "same" is already used by .*a\.yaml/);
  });

  it('says which folder it cannot read', () => {
    expect(() => loadPlaybooks('/nonexistent/playbooks', all)).toThrow('/nonexistent/playbooks: cannot read the playbook folder (ENOENT)');
  });
});
