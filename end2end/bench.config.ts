import { defineConfig } from "@playwright/test";
import { chromium } from "./chromium";

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
    launchOptions: chromium,
  },
});
