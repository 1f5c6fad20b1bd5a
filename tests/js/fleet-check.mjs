// Drives the dashboard's Fleet page (/fleet) in Debian's chromium through playwright-core and prints what it saw
// as JSON; the C# test (DashboardFleetBrowserTests) makes the assertions.
// Usage: node fleet-check.mjs '{"base":"http://127.0.0.1:PORT","token":"..."}'
import { chromium } from 'playwright-core';

const input = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const out = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = [];
  const errors = [];
  page.on('console', message => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    else if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  // Every response that failed, with its address: the C# test tells the page's own from the browser's favicon probe.
  const failed = [];
  page.on('response', response => { if (response.status() >= 400) failed.push(`${response.status()} ${new URL(response.url()).pathname}`); });
  page.on('pageerror', error => errors.push(String(error)));

  await page.goto(`${input.base}/fleet`);
  out.anonymousLandsOn = new URL(page.url()).pathname;
  await page.goto(`${input.base}/login`);
  await page.fill('input[name=token]', input.token);
  await Promise.all([page.waitForURL(`${input.base}/`), page.click('button[type=submit]')]);

  const response = await page.goto(`${input.base}/fleet`);
  out.status = response.status();
  out.csp = response.headers()['content-security-policy'];
  out.title = await page.title();
  const rows = async table =>
    page.locator(`${table} tr`).evaluateAll(trs => trs.map(tr => [...tr.querySelectorAll('th, td')].map(c => c.textContent.trim())));
  out.processesVisible = await page.locator('#fleet-processes').isVisible();
  out.processes = await rows('#fleet-processes');
  out.queuesVisible = await page.locator('#fleet-queues').isVisible();
  out.queues = await rows('#fleet-queues');
  out.cspViolations = violations;
  out.consoleErrors = errors;
  out.failedResponses = failed;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
