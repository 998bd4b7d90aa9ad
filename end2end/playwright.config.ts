import { defineConfig, devices } from "@playwright/test";
import { chromium } from "./chromium";

const port = Number(process.env.SLUICE_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  // A stuck step fails on its own expectation's 10 s; a whole test may take longer than 30 s
  // on a loaded 2-core machine (the wizard test makes a stream of each of five types).
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: chromium,
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"] } },
    { name: "phone", use: { ...devices["Pixel 7"] }, testMatch: /shell\.spec\.ts/ },
  ],
  webServer: {
    // A fresh data folder each run; the site (wasm, css) comes from `cargo leptos build`.
    command: `rm -rf ../target/e2e && ../target/debug/sluice --addr 127.0.0.1:${port} --data-dir ../target/e2e --log-level warn`,
    url: `${baseURL}/healthz`,
    // Demo deliveries report after 1.5 s and never fail, so journeys can wait for them.
    env: {
      LEPTOS_SITE_ROOT: "../target/site",
      SLUICE_DELIVERY__DEMO_DELAY_MS: "1500",
      SLUICE_DELIVERY__DEMO_FAILURE_RATIO: "0",
      // Webhook tests post to a receiver on this machine.
      SLUICE_WEBHOOKS__ALLOW_PRIVATE: "true",
      // Plain HTTP on 127.0.0.1: the session cookie without the __Host- prefix.
      SLUICE_HTTP__SECURE_COOKIE: "false",
      // Every test signs up from 127.0.0.1.
      SLUICE_LIMITS__SIGN_UPS_PER_HOUR: "10000",
      SLUICE_LIMITS__UNKNOWN_TOKENS_PER_MINUTE: "100000",
      // The Messages page tells customers how long messages are kept.
      SLUICE_RETENTION__REDACT_AFTER_DAYS: "30",
      SLUICE_RETENTION__DELETE_AFTER_DAYS: "90",
    },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
