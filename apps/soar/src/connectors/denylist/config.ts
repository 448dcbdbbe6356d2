/** Redis deny-list connector settings: the sorted set applications read through @vigil/security-logger. */
export interface DenyListConfig {
  key: string;
}
