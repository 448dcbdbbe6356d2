/** nftables connector settings (NFT_* env). The sets must exist (docs/soar.md shows the ruleset). */
export interface NftConfig {
  /** The nft binary: a name looked up on PATH, or an absolute path. */
  binary: string;
  family: 'inet' | 'ip' | 'ip6' | 'bridge' | 'netdev';
  table: string;
  setV4: string;
  setV6: string;
  timeoutMs: number;
}
