import type { Producer } from '@vigil/kafka';
import type { Redis } from '@vigil/redis';
import type { SoarConfig } from '../config';
import type { ConnectorName } from '../domain/playbook';
import { AlertRouterConnector } from './alert-router/client';
import { DenyListConnector } from './denylist/client';
import { EdrConnector } from './edr/client';
import { FirewallConnector } from './firewall/client';
import { NftablesConnector } from './nftables/client';
import { ScimConnector } from './scim/client';
import type { Connector } from './types';

/** The connectors this configuration enables: HTTP ones only when their URL is set. */
export function buildConnectors(config: SoarConfig, redis: Redis, producer: Producer, alertsTopic: string): Map<ConnectorName, Connector> {
  const env = config.env;
  const s = config.secrets;
  const list: Connector[] = [
    new DenyListConnector(redis, { key: env.SOAR_DENYLIST_KEY }),
    new NftablesConnector({
      binary: env.NFT_BINARY,
      family: env.NFT_FAMILY,
      table: env.NFT_TABLE,
      setV4: env.NFT_SET_V4,
      setV6: env.NFT_SET_V6,
      timeoutMs: env.NFT_TIMEOUT_MS,
    }),
    new AlertRouterConnector(producer, alertsTopic),
  ];
  if (env.FIREWALL_URL)
    list.push(
      new FirewallConnector({
        url: env.FIREWALL_URL,
        timeoutMs: env.FIREWALL_TIMEOUT_MS,
        ...(s.firewallToken ? { token: s.firewallToken } : {}),
      }),
    );
  if (env.SCIM_URL && s.scimToken)
    list.push(new ScimConnector({ url: env.SCIM_URL, token: s.scimToken, timeoutMs: env.SCIM_TIMEOUT_MS, lookup: env.SCIM_USER_LOOKUP }));
  if (env.EDR_URL && s.edrToken) {
    const auth =
      env.EDR_AUTH === 'bearer'
        ? ({ kind: 'bearer', token: s.edrToken } as const)
        : env.EDR_AUTH === 'basic'
          ? ({ kind: 'basic', userPass: s.edrToken } as const)
          : ({ kind: 'header', header: env.EDR_AUTH_HEADER, key: s.edrToken } as const);
    list.push(
      new EdrConnector({
        url: env.EDR_URL,
        timeoutMs: env.EDR_TIMEOUT_MS,
        auth,
        isolate: { method: env.EDR_ISOLATE_METHOD, path: env.EDR_ISOLATE_PATH },
        release: { method: env.EDR_RELEASE_METHOD, path: env.EDR_RELEASE_PATH },
      }),
    );
  }
  return new Map(list.map((c) => [c.name, c]));
}
