// Drives Debian's Chromium (never a downloaded browser) with playwright-core: opens the test page, clicks
// the button whose handler throws, captures a message, and waits until the SDK's transport has finished
// both sends. Usage: node run_browser.js <page url> <message>; prints one JSON line:
// {events, sends, messageId, console, pageErrors}. Exit code 1 when the sends did not finish in time.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [pageUrl, message] = process.argv.slice(2);
const CHROMIUM = process.env.ROOKERY_CHROMIUM || '/usr/bin/chromium';

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rookery-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  const result = { events: [], sends: [], messageId: null, console: [], pageErrors: [] };
  let exitCode = 0;
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (msg) => result.console.push(`${msg.type()}: ${msg.text()}`));
    page.on('pageerror', (error) => result.pageErrors.push(String(error)));
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.__ready === true, null, { timeout: 10000 });
    await page.click('#checkout');
    result.messageId = await page.evaluate((text) => Sentry.captureMessage(text), message);
    try {
      await page.waitForFunction(
        () => window.__sentrySends.filter((send) => send.item === 'event').length >= 2, null, { timeout: 15000 });
    } catch (error) {
      exitCode = 1;
    }
    result.events = await page.evaluate(() => window.__sentryEvents);
    result.sends = await page.evaluate(() => window.__sentrySends);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(exitCode);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
