// `make bench`'s browser run: the console as a person on a slow laptop and network meets it.
// Chromium with a cold cache, its CPU slowed 4× and its network throttled through the DevTools
// protocol, loads sign-in → Streams → a stream's side panel → Realtime, each page in full, then
// a stats widget with a cold cache of its own, as a product team's tool shows it; and records
// what each transferred, its largest contentful paint, its total blocking time and when it
// became interactive (hydrated). Results go to $SLUICE_BENCH_OUT as JSON lines; with
// $SLUICE_BENCH_TRACE set to a folder, each page's Chromium performance trace goes there too
// (open it in DevTools' Performance panel, or summarise it with .ci/trace_summary.py).
import { appendFileSync } from "node:fs";
import { test, type Browser, type CDPSession, type Page } from "@playwright/test";

const PASSWORD = "correct horse battery";
/** A fast 3G-like link: 150 ms round trips, 1.6 Mbit/s down, 750 kbit/s up. */
const NETWORK = { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 };
const CPU_SLOWDOWN = 4;

/** Collects, in the page, the largest contentful paint and the long tasks. */
const observe = () => {
  const w = window as unknown as { __lcp: number; __long: { start: number; duration: number }[] };
  w.__lcp = 0;
  w.__long = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) w.__lcp = Math.max(w.__lcp, entry.startTime);
  }).observe({ type: "largest-contentful-paint", buffered: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) w.__long.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
};

async function throttled(page: Page): Promise<{ cdp: CDPSession; bytes: () => { all: number; code: number } }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await cdp.send("Network.emulateNetworkConditions", NETWORK);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  // Requests for the app's code: its wasm and JavaScript files.
  const code = new Set<string>();
  cdp.on("Network.responseReceived", (event) => {
    if (/\/pkg\/[^?]*\.(wasm|js)(\?|$)/.test(event.response.url)) code.add(event.requestId);
  });
  let all = 0;
  let codeBytes = 0;
  cdp.on("Network.loadingFinished", (event) => {
    all += event.encodedDataLength;
    if (code.has(event.requestId)) codeBytes += event.encodedDataLength;
  });
  return {
    cdp,
    bytes: () => {
      const value = { all, code: codeBytes };
      all = 0;
      codeBytes = 0;
      return value;
    },
  };
}

const TRACES = process.env.SLUICE_BENCH_TRACE;

/** Evaluates `expression` in the page through the DevTools protocol, awaiting its promise. */
async function inPage(cdp: CDPSession, expression: string): Promise<unknown> {
  const { result, exceptionDetails } = await cdp.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  return result.value;
}

/** An expression that resolves once `selector` matches, polling from the page itself. */
const until = (selector: string) => `new Promise((resolve, reject) => {
  const started = performance.now();
  const look = () => document.querySelector(${JSON.stringify(selector)}) ? resolve(true)
    : performance.now() - started > 60000 ? reject(new Error("never appeared")) : setTimeout(look, 20);
  look();
})`;

/**
 * Loads `path` in full and measures it until `ready` (a CSS selector) shows, it is hydrated,
 * and a second has passed. The waits run through the DevTools protocol, not Playwright's
 * locators: those inject Playwright's own script into each page, whose evaluation (some 80 ms
 * of the main thread at this CPU slowdown) would count as the page's blocking time.
 */
async function measure(
  page: Page,
  probe: { cdp: CDPSession; bytes: () => { all: number; code: number } },
  name: string, path: string, ready: string) {
  const browser = page.context().browser() as Browser;
  if (TRACES) {
    await browser.startTracing(page, {
      path: `${TRACES}/${name.replace(/\W+/g, "-")}.json`,
      categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "v8.wasm", "loading"],
    });
  }
  probe.bytes();
  const started = Date.now();
  await page.goto(path);
  await inPage(probe.cdp, until("html[data-hydrated]"));
  const interactive = Date.now() - started;
  await inPage(probe.cdp, until(ready));
  // Long tasks after hydration (a first poll, a feed) count toward blocking time too.
  await page.waitForTimeout(1_000);
  const { lcp, long } = (await inPage(probe.cdp, "({ lcp: window.__lcp, long: window.__long })")) as {
    lcp: number; long: { start: number; duration: number }[];
  };
  const tbt = long.reduce((sum, task) => sum + Math.max(0, task.duration - 50), 0);
  const moved = probe.bytes();
  if (TRACES) await browser.stopTracing();
  const result = { page: name, bytes: moved.all, code_bytes: moved.code, lcp_ms: Math.round(lcp), tbt_ms: Math.round(tbt), tti_ms: interactive };
  appendFileSync(process.env.SLUICE_BENCH_OUT ?? "/dev/stdout", JSON.stringify(result) + "\n");
}

test("the console under a slow CPU and network", async ({ browser, baseURL }) => {
  test.setTimeout(300_000);
  // The account and a stream are made beforehand, unthrottled: only the pages are measured.
  const setup = await browser.newPage({ baseURL });
  const email = `bench-${Date.now()}@example.com`;
  await setup.goto("/sign-up");
  await setup.getByLabel("Company or team").fill("Bench Ltd");
  await setup.getByLabel("Email").fill(email);
  await setup.getByLabel("Password").fill(PASSWORD);
  await setup.getByRole("button", { name: "Create account" }).click();
  await setup.waitForURL(/\/streams$/);
  const created = await setup.request.post("/api/streams/create", {
    data: {
      kind: "sms_otp",
      input: { name: "Logins", description: "", demo: true, ip_acl_enabled: false, allowed_ips: [], tags: [], default_sender: "Bench" },
      draft: false,
    },
  });
  const streamId = (await created.json()).stream.id;
  const embedKey = await setup.request.post("/api/embed/keys/create", {
    data: {
      id: streamId,
      input: { name: "Bench", origins: ["https://tools.example.com"], can_send: false, shows_numbers: false, expires_in_days: null },
    },
  });
  const widgetKey = (await embedKey.json()).key;
  const cookies = await setup.context().cookies();
  await setup.close();

  // Cold: a new context has an empty cache.
  const context = await browser.newContext({ baseURL });
  await context.addInitScript(observe);
  const page = await context.newPage();
  const probe = await throttled(page);
  await measure(page, probe, "sign-in", "/sign-in", "form button[type=submit]");
  await context.addCookies(cookies);
  await measure(page, probe, "streams", "/streams", "[data-testid=stream-row]");
  await measure(page, probe, "side panel", `/streams?stream=${streamId}&tab=info`, "[data-testid=side-panel]");
  await measure(page, probe, "realtime", "/realtime", "main h1");
  await context.close();

  // A widget in a product team's tool: its own cold cache, no console visited before.
  const widgets = await browser.newContext({ baseURL });
  await widgets.addInitScript(observe);
  const widget = await widgets.newPage();
  await measure(widget, await throttled(widget), "stats widget", `/embed/stats?key=${widgetKey}`, "[data-testid=stat-sent]");
  await widgets.close();
});
