import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startScimStandin, type ScimStandin } from '@vigil/standins';
import { freshTopics, uniqueName, waitFor } from '@vigil/testing';
import { ADMIN_TOKEN, api, makeAlert, playbookDir, publishAlerts, redisPrefix, startSoar, type RunningSoar } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const TAKEOVER = `
id: account-takeover
trigger:
  rule_id: auth.account_takeover
steps:
  - action: disable_user
    target: '{{ group["actor.user_id"] }}'
    requires_approval: true
`;

describe('the analyst console in headless Chromium', () => {
  let soar: RunningSoar;
  let scim: ScimStandin;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    // Fail, never skip: a missing browser must be visible (`./vigil test` installs it: tools/src/infra/packages.ts).
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or run ./vigil test, which does`);
    const { namespace, topics } = await freshTopics(1, ['alerts', 'alertsDlq', 'responses']);
    scim = await startScimStandin({ token: 'scim-browser' });
    scim.addUser('dave');
    scim.addUser('eve');
    soar = await startSoar({
      VIGIL_TOPIC_NAMESPACE: namespace,
      REDIS_KEY_PREFIX: redisPrefix(),
      SOAR_GROUP_ID: uniqueName('soar-ui'),
      SOAR_PLAYBOOKS_DIR: playbookDir({ 'takeover.yaml': TAKEOVER }),
      SCIM_URL: scim.url,
      SCIM_TOKEN: 'scim-browser',
    });
    const rule = {
      id: 'auth.account_takeover',
      name: 'Account takeover <script>alert(1)</script>',
      description: '',
      kind: 'sequence' as const,
    };
    await publishAlerts(topics.alerts, [
      makeAlert({ rule, group: { 'actor.user_id': 'dave' } }),
      makeAlert({ rule, group: { 'actor.user_id': 'eve' } }),
    ]);
    await waitFor(
      'two pending approvals',
      async () => ((await api(soar.url, '/api/v1/approvals', ADMIN_TOKEN)).body.approvals as unknown[]).length === 2,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('401')) problems.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await soar?.close();
    await scim?.close();
  });

  it('serves the console with a strict content security policy', async () => {
    const res = await fetch(`${soar.url}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('refuses a wrong token and lets an admin log in with the keyboard', async () => {
    await page.goto(`${soar.url}/console`);
    await page.getByLabel('API token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Your token was refused').waitFor();
    await page.getByLabel('API token').focus();
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as root-admin (admin)').waitFor();
    expect(page.url()).toBe(`${soar.url}/console`);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
  });

  it('shows the pending approvals and runs the step an admin approves', async () => {
    const approve = page.getByRole('button', { name: 'Approve disable_user dave' });
    await approve.waitFor();
    await expect(page.locator('#approvals tbody tr').count()).resolves.toBe(2);
    // Alert text is shown as text: the rule name's markup did not become an element.
    await expect(page.locator('#approvals script').count()).resolves.toBe(0);
    await approve.click();
    await page.getByText('Approved. The step runs now.').waitFor();
    await waitFor('dave to be disabled at the IdP', () => [...scim.users.values()].find((u) => u.userName === 'dave')!.active === false);
    await page.locator('#actions tbody tr', { hasText: 'dave' }).filter({ hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
    await expect(page.locator('#actions tbody tr', { hasText: 'dave' }).locator('td').nth(5).textContent()).resolves.toBe('root-admin');
  });

  it('rejects with a reason entirely from the keyboard and leaves the user untouched', async () => {
    const reject = page.getByRole('button', { name: 'Reject disable_user eve' });
    await reject.focus();
    await page.keyboard.press('Enter');
    const reason = page.getByLabel('Reason for rejecting disable_user eve');
    await expect(reason.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.keyboard.type('travelling, confirmed by phone');
    await page.keyboard.press('Enter');
    await page.getByText('Rejected. The run is stopped.').waitFor();
    await page.getByText('Nothing waits for approval.').waitFor();
    expect([...scim.users.values()].find((u) => u.userName === 'eve')!.active).toBe(true);
    const runs = (await api(soar.url, '/api/v1/runs', ADMIN_TOKEN)).body.runs as Array<{
      status: string;
      steps: Array<{ reason?: string }>;
    }>;
    expect(runs.map((r) => r.status).sort()).toEqual(['rejected', 'succeeded']);
    expect(runs.find((r) => r.status === 'rejected')!.steps[0]!.reason).toBe('travelling, confirmed by phone');
  });

  it('raised no script errors, CSP violations or dialogs on the way', () => {
    expect(problems).toEqual([]);
  });
});
