import { PASSWORD, newEmail, signOut, signUp, test, expect } from "./helpers";

test("a new user signs up and lands on two ready demo streams, renamable and deletable", async ({ page }) => {
  const email = newEmail("new");
  await signUp(page, email);

  await expect(page).toHaveTitle("Streams API · Sluice");
  await expect(page.getByRole("heading", { level: 1, name: "Streams API" })).toBeVisible();
  await expect(page.getByTestId("user-menu")).toContainText(email);
  const rows = page.getByTestId("stream-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("Default Marketing");
  await expect(rows.nth(1)).toContainText("Default Transactional");
  await expect(rows.nth(0)).toContainText("Ready");

  // Each has its token ready to copy.
  await page.getByRole("button", { name: "Actions for Default Marketing" }).click();
  await page.getByRole("menuitem", { name: "Show token" }).click();
  const popup = page.getByRole("dialog");
  await expect(popup.getByLabel("API token")).toHaveValue(/^[A-Za-z0-9_-]{43}$/);
  await popup.getByRole("button", { name: "Done" }).click();

  // They are streams like any other: renamed, then deleted.
  await page.getByRole("button", { name: "Actions for Default Marketing" }).click();
  await page.getByRole("menuitem", { name: "Edit stream" }).click();
  await page.getByLabel("Stream API name").fill("Promotions");
  await page.getByRole("button", { name: "Save & Next" }).click();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(rows.filter({ hasText: "Promotions" })).toBeVisible();
  for (const name of ["Promotions", "Default Transactional"]) {
    await page.getByRole("button", { name: `Actions for ${name}` }).click();
    await page.getByRole("menuitem", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Delete stream" }).click();
    await expect(rows.filter({ hasText: name })).toHaveCount(0);
  }
  await expect(page.getByTestId("empty-state")).toContainText("No streams yet");
});

test("sign-up shows the error under the field and keeps what was typed", async ({ page }) => {
  await page.goto("/sign-up");
  await page.getByLabel("Company or team").fill("Globex");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue("not-an-email");
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Company or team")).toHaveValue("Globex");
  await expect(page.getByLabel("Password")).toHaveValue("");
});

test("signing up twice with one email is refused", async ({ page }) => {
  const email = newEmail("twice");
  await signUp(page, email);
  await signOut(page);

  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email.toUpperCase());
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page.getByText("An account with this email already exists")).toBeVisible();
});

test("a user signs out, is kept out, and signs back in where they were going", async ({ page }) => {
  const email = newEmail("back");
  await signUp(page, email);
  await signOut(page);

  await page.goto("/messages");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fmessages$/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("The email or password is not right.");
  await expect(page.getByLabel("Email")).toHaveValue(email);

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/messages$/);
  await expect(page.getByRole("heading", { level: 1, name: "Messages" })).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign-in, a wrong password and sign-out all work", async ({ page, browser }) => {
    const email = newEmail("nojs");
    const setup = await browser.newPage({ javaScriptEnabled: false });
    await signUp(setup, email, "Acme Ltd", false);
    await setup.close();

    await page.goto("/streams");
    await expect(page).toHaveURL(/\/sign-in/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("The email or password is not right.");

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/streams$/);
    await expect(page.getByRole("heading", { level: 1, name: "Streams API" })).toBeVisible();
    await signOut(page);
  });
});
