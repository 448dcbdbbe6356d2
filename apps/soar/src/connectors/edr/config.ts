export type EdrMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Generic EDR connector settings (EDR_* env): method and path template per action, and how to authenticate. */
export interface EdrConfig {
  url: string;
  timeoutMs: number;
  auth: { kind: 'bearer'; token: string } | { kind: 'header'; header: string; key: string } | { kind: 'basic'; userPass: string };
  isolate: { method: EdrMethod; path: string };
  release: { method: EdrMethod; path: string };
}
