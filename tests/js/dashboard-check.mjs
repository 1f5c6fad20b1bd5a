// Drives the dashboard in Debian's chromium through playwright-core (no browser download) and prints
// what it saw as JSON; the C# test (DashboardBrowserTests) makes the assertions.
// Usage: node dashboard-check.mjs '{"base":"http://127.0.0.1:PORT","token":"...","proposal":1,"other":3,"run":1}'
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
  page.on('console', message => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });

  await page.goto(`${input.base}/`);
  out.redirectedTo = new URL(page.url()).pathname;
  await page.fill('input[name=token]', input.token);
  await Promise.all([page.waitForURL(`${input.base}/`), page.click('button[type=submit]')]);
  out.board = await page.textContent('main');
  out.csp = (await page.goto(`${input.base}/`)).headers()['content-security-policy'];

  await page.goto(`${input.base}/runs/${input.run}`);
  out.bundle = await page.textContent('main');
  out.bundleHeadings = await page.locator('main h2').allTextContents();

  // The run's timeline: inline SVG drawn by the server. Tool calls reach it within about a second (the server
  // writes them in batches), so the page is reloaded until the refused call is on it.
  for (let i = 0; i < 30 && (await page.locator('svg#timeline g.entry.tool.refused').count()) === 0; i++) {
    await page.waitForTimeout(500);
    await page.goto(`${input.base}/runs/${input.run}`);
  }
  const timeline = page.locator('svg#timeline');
  out.timelineVisible = await timeline.isVisible();
  out.timelineBox = await timeline.boundingBox();
  out.timeline = await timeline.evaluate(svg => {
    const shown = bar => {
      const box = bar.getBoundingClientRect();
      const style = getComputedStyle(bar);
      return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none' && style.fill !== 'none';
    };
    const bars = [...svg.querySelectorAll('rect.bar')];
    return {
      bars: bars.length,
      shownBars: bars.filter(shown).length,
      entries: [...svg.querySelectorAll('g.entry')].map(g => ({
        classes: g.getAttribute('class'),
        label: g.querySelector('text')?.textContent ?? '',
        fill: getComputedStyle(g.querySelector('rect.bar')).fill,
      })),
    };
  });
  // Agent-written text is inert: no element, script or image came of it.
  out.injected = await page.evaluate(() => ({
    title: document.title,
    scripts: document.scripts.length,
    images: document.images.length,
    pwned: document.documentElement.dataset.pwned ?? null,
  }));

  await page.goto(`${input.base}/tasks/${input.proposal}`);
  await Promise.all([page.waitForURL(`${input.base}/tasks/${input.proposal}`), page.click('#approve')]);
  out.afterApprove = await page.textContent('main');

  // The session cookie rides along, but the form's CSRF token does not: the write must be refused.
  const forged = await context.request.post(`${input.base}/tasks/${input.other}/reject`, { form: { reason: 'forged' }, headers: { Origin: input.base } });
  out.noCsrfStatus = forged.status();
  out.noCsrfBody = await forged.text();
  out.cspViolations = violations;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
