// Playwright against the service that run.sh started, with Debian's chromium (no browser
// download). One worker: the tests share one database and run in order.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.mjs',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: `${process.env.VP_SCREENSHOTS ?? 'screenshots'}/../playwright-results`,
  use: {
    baseURL: process.env.VP_BASE_URL,
    headless: true,
    locale: 'nb-NO',
    timezoneId: 'Europe/Oslo',
    viewport: { width: 1366, height: 900 },
    acceptDownloads: true,
    actionTimeout: 15_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=nb-NO'],
    },
  },
});
