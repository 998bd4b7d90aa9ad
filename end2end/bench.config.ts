import { defineConfig } from "@playwright/test";

// `make bench`'s browser run (./bench): against a release build that .ci/bench.sh serves at
// SLUICE_BENCH_URL. Not part of `make test`.
export default defineConfig({
  testDir: "./bench",
  testMatch: /\.bench\.ts$/,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.SLUICE_BENCH_URL,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
