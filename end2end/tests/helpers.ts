import { expect, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery";

/** A unique email, so tests never collide on one database. */
export function newEmail(prefix = "user"): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export async function signUp(page: Page, email: string, accountName = "Acme Ltd") {
  await page.goto("/sign-up");
  await page.getByLabel("Company or team").fill(accountName);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/streams$/);
}

export async function signOut(page: Page) {
  await page.getByLabel("Account menu").click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}
