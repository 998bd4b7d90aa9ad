// The console's code arrives page by page: a first visit to sign-in fetches the router's core
// and the sign-in page's own code, not the console's; each page fetches its own when first
// shown, and hydrates once it has.
import { expect, newEmail, signUp, test } from "./helpers";

/** A request for a page's split-off code (`app/src/pages/routes.rs`). */
const pageCode = (route: string) => new RegExp(`/pkg/split___${route}_route_view_[^/]*\\.wasm$`);

test("each page fetches its own code and no other page's", async ({ page }) => {
  const fetched: string[] = [];
  page.on("request", (request) => fetched.push(new URL(request.url()).pathname));
  const requested = (route: string) => fetched.some((path) => pageCode(route).test(path));

  await page.goto("/sign-in");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(requested("sign_in")).toBe(true);
  for (const other of ["sign_up", "console", "streams", "realtime", "embed"]) {
    expect(requested(other), `the sign-in page fetched the ${other} page's code`).toBe(false);
  }

  await signUp(page, newEmail("bundle"));
  expect(requested("console")).toBe(true);
  expect(requested("streams")).toBe(true);
  expect(requested("realtime")).toBe(false);

  // A link followed in the app fetches the next page's code, then shows it working.
  await page.getByRole("link", { name: "Realtime" }).first().click();
  await expect(page).toHaveURL(/\/realtime$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Realtime");
  expect(requested("realtime")).toBe(true);
});
