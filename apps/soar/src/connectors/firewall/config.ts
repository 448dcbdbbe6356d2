/** Firewall HTTP API connector settings (FIREWALL_* env). */
export interface FirewallConfig {
  /** Base URL, e.g. https://fw.example.net/api; the connector appends /v1/blocks/{network}. */
  url: string;
  token?: string;
  timeoutMs: number;
}
