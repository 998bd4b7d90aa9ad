import { newEmail, signUp, test, expect } from "./helpers";

// A new account has its two starter streams; the other sections start empty.
const sections: { link: string; path: string; heading: string; filled?: string }[] = [
  { link: "Streams API", path: "/streams", heading: "Streams API", filled: "stream-row" },
  { link: "Realtime", path: "/realtime", heading: "Realtime", filled: "realtime-row" },
  { link: "Messages", path: "/messages", heading: "Messages" },
  { link: "Sender IDs", path: "/sender-ids", heading: "Sender IDs" },
  { link: "API docs", path: "/api-docs", heading: "API docs", filled: "api-operation" },
];

test("the navigation reaches every section, with titles and empty states", async ({ page }) => {
  await signUp(page, newEmail("nav"));
  const nav = page.getByRole("navigation", { name: "Main" });

  for (const section of sections) {
    await nav.getByRole("link", { name: section.link }).click();
    await expect(page).toHaveURL(new RegExp(`${section.path}$`));
    await expect(page.getByRole("heading", { level: 1, name: section.heading })).toBeVisible();
    await expect(page).toHaveTitle(`${section.heading} · Sluice`);
    await expect(nav.getByRole("link", { name: section.link })).toHaveAttribute("aria-current", "page");
    await expect(page.getByTestId(section.filled ?? "empty-state").first()).toBeVisible();
  }
});

test("the API docs page renders every endpoint of the OpenAPI document", async ({ page }) => {
  await signUp(page, newEmail("docs"));
  await page.goto("/api-docs");
  const operations = page.getByTestId("api-operation");
  await expect(operations).toHaveCount(14);
  const send = operations.filter({ hasText: "/simple_send/" });
  await expect(send).toContainText("messages[].recipient_phone");
  await expect(send).toContainText("413");
  const document = await (await page.request.get("/api/openapi.json")).json();
  expect(document.openapi).toMatch(/^3\.1/);
});

test("the user menu shows the account and its members", async ({ page }) => {
  const email = newEmail("menu");
  await signUp(page, email, "Initech");

  await page.getByLabel("Account menu").click();
  await expect(page.getByTestId("user-menu")).toContainText("Initech");
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { name: "Account" })).toBeVisible();
  await expect(page.getByTestId("members")).toContainText(email);
});

test("an unknown address shows the 404 page", async ({ page }) => {
  await signUp(page, newEmail("lost"));

  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Go to Streams API" }).click();
  await expect(page).toHaveURL(/\/streams$/);
});

test("the page does not scroll sideways, its table included", async ({ page }) => {
  await signUp(page, newEmail("width"));
  await expect(page.getByTestId("stream-row")).toHaveCount(2);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
});
