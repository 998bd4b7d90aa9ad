import { test as base, expect, type Page } from "@playwright/test";

export { expect };

/**
 * Playwright's `test`, whose page waits after every load until the app has hydrated: before
 * that, server-rendered controls that need the app (menus' buttons, dialogs) do nothing yet.
 */
/** Waits until the app has hydrated the current page (after a load the test did not start). */
export async function hydrated(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

export const test = base.extend({
  page: async ({ page, javaScriptEnabled }, use) => {
    if (javaScriptEnabled !== false) {
      const goto = page.goto.bind(page);
      const reload = page.reload.bind(page);
      page.goto = async (...args) => {
        const response = await goto(...args);
        await hydrated(page);
        return response;
      };
      page.reload = async (...args) => {
        const response = await reload(...args);
        await hydrated(page);
        return response;
      };
    }
    await use(page);
  },
});

export const PASSWORD = "correct horse battery";

/** A unique email, so tests never collide on one database. */
export function newEmail(prefix = "user"): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export async function signUp(page: Page, email: string, accountName = "Acme Ltd", javaScript = true) {
  await page.goto("/sign-up");
  await page.getByLabel("Company or team").fill(accountName);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/streams$/);
  // Signing up may load the Streams page anew.
  if (javaScript) await hydrated(page);
}

export async function signOut(page: Page) {
  await page.getByLabel("Account menu").click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

/** Creates a ready stream through the same server function the wizard calls; returns its id. */
export async function createStream(
  page: Page,
  kind: string,
  name: string,
  tags: string[] = [],
  demo = true,
): Promise<string> {
  const response = await page.request.post("/api/streams/create", {
    data: {
      kind,
      input: {
        name,
        description: "",
        demo,
        ip_acl_enabled: false,
        allowed_ips: [],
        tags,
        default_sender: null,
      },
      draft: false,
    },
  });
  expect(response.ok()).toBeTruthy();
  return (await response.json()).stream.id;
}

export function streamRow(page: Page, name: string) {
  return page.getByTestId("stream-row").filter({ hasText: name });
}
