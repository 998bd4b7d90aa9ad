// The console's code arrives in parts (`app/src/pages/routes.rs`): a first visit to sign-in
// fetches the router's core and the sign-in page's own code, not the console's or the
// widgets'; the console's code arrives with its first page, and its other pages need no more.
import { expect, newEmail, signUp, test } from "./helpers";

/** A request for the code behind one split point. */
const splitCode = (name: string) => new RegExp(`/pkg/split_+${name}_[0-9]+[^/]*\\.wasm$`);

test("each part of the console fetches its own code once", async ({ page }) => {
  const fetched: string[] = [];
  page.on("request", (request) => fetched.push(new URL(request.url()).pathname));
  const requested = (name: string) => fetched.filter((path) => splitCode(name).test(path)).length;

  await page.goto("/sign-in");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(requested("sign_in_route_view")).toBeGreaterThan(0);
  for (const other of ["sign_up_route_view", "console_page", "embed_route_view"]) {
    expect(requested(other), `the sign-in page fetched ${other}`).toBe(0);
  }

  await signUp(page, newEmail("bundle"));
  expect(requested("console_page")).toBeGreaterThan(0);

  // Another console page, followed in the app, works with the code already here.
  const before = fetched.filter((path) => path.endsWith(".wasm")).length;
  await page.getByRole("link", { name: "Realtime" }).first().click();
  await expect(page).toHaveURL(/\/realtime$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Realtime");
  expect(fetched.filter((path) => path.endsWith(".wasm")).length).toBe(before);
});
