/** SCIM 2.0 identity-provider connector settings (SCIM_* env). */
export interface ScimConfig {
  /** SCIM base URL, e.g. https://idp.example.com/scim/v2 */
  url: string;
  token: string;
  timeoutMs: number;
  /** How the alert's user id maps to a SCIM resource: it is the id, or it is the userName to look up. */
  lookup: 'id' | 'userName';
}
