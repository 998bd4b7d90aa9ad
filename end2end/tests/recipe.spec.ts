// The README's "Testing your product with Sluice", run as written against a sample product
// (./sample-app.ts) that this file serves. The part between the two `recipe` markers is the
// README's code block, character for character: the last test here fails when they differ.

// #region recipe
import { test as base, expect, type APIRequestContext } from "@playwright/test";

/** The phone your product texts: a demo stream of your Sluice, read over its test inbox. */
class Phone {
  constructor(private sluice: APIRequestContext) {}

  /** The newest text to `number` queued since `since`, waiting up to 10 s for it to come. */
  async textTo(number: string, since: string) {
    const answer = await this.sluice.get("/demo/messages", {
      params: { recipient: number, since, wait: 10 },
    });
    expect(answer.ok(), await answer.text()).toBeTruthy();
    const [text] = (await answer.json()).messages;
    expect(text, `no text reached ${number}`).toBeDefined();
    return text as { content: string; code: string | null; status: string };
  }
}

// SLUICE_URL and SLUICE_TOKEN: your Sluice and the token of a demo OTP stream with
// Predictable outcomes ticked (Streams → ⋯ → Edit stream).
const test = base.extend<{ phone: Phone }>({
  phone: async ({ playwright }, use) => {
    const sluice = await playwright.request.newContext({
      baseURL: process.env.SLUICE_URL,
      extraHTTPHeaders: { Authorization: process.env.SLUICE_TOKEN ?? "" },
    });
    await use(new Phone(sluice));
    await sluice.dispose();
  },
});

test("a customer signs in with the code we text them", async ({ page, phone }) => {
  const since = new Date().toISOString();
  await page.goto("/sign-in");
  await page.getByLabel("Phone").fill("+447700900123");
  await page.getByRole("button", { name: "Text me a code" }).click();

  const text = await phone.textTo("+447700900123", since);
  await page.getByLabel("Code").fill(text.code!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Welcome" })).toBeVisible();
});

test("a customer whose phone is off is told so", async ({ page }) => {
  await page.goto("/sign-in");
  // Sluice reports every text to +447700900001 undelivered.
  await page.getByLabel("Phone").fill("+447700900001");
  await page.getByRole("button", { name: "Text me a code" }).click();
  await expect(page.getByText("We could not reach your phone")).toBeVisible();
});
// #endregion recipe

import { readFileSync } from "node:fs";
import { signUp, newEmail } from "./helpers";
import { startSampleApp, type SampleApp } from "./sample-app";

// One product and one Sluice account for the file's tests, in one worker.
test.describe.configure({ mode: "serial" });

let app: SampleApp;

test.beforeAll(async ({ browser }, testInfo) => {
  // Sluice's address: the project's, which the file's tests replace with the product's.
  const sluiceUrl = testInfo.project.use.baseURL!;
  const page = await browser.newPage({ baseURL: sluiceUrl });
  await signUp(page, newEmail("recipe"));
  const created = await page.request.post("/api/streams/create", {
    data: {
      kind: "sms_otp",
      input: {
        name: "Sign-in codes",
        description: "",
        demo: true,
        demo_predictable: true,
        ip_acl_enabled: false,
        allowed_ips: [],
        tags: [],
        default_sender: "AcmeApp",
      },
      draft: false,
    },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  const { token } = await created.json();
  await page.close();
  process.env.SLUICE_URL = sluiceUrl;
  process.env.SLUICE_TOKEN = token;
  app = await startSampleApp(sluiceUrl, token);
});

test.afterAll(async () => {
  await app?.close();
});

// The recipe's `page.goto("/sign-in")` opens the product, not Sluice. (Playwright also sets
// this up around `beforeAll`, before the product runs: Sluice's address there.)
test.use({ baseURL: async ({}, use, testInfo) => use(app?.url ?? testInfo.project.use.baseURL) });

test("the README shows this file's recipe, unchanged", () => {
  const region = (text: string) => {
    const start = text.indexOf("// #region recipe\n");
    const end = text.indexOf("// #endregion recipe");
    expect(start, "the recipe's start marker").toBeGreaterThanOrEqual(0);
    return text.slice(start + "// #region recipe\n".length, end);
  };
  const readme = readFileSync(`${__dirname}/../../README.md`, "utf8");
  const block = readme.match(/## Testing your product with Sluice[\s\S]*?```ts\n([\s\S]*?)```/);
  expect(block, "the README's recipe section").not.toBeNull();
  expect(block![1]).toBe(region(readFileSync(__filename, "utf8")));
});
