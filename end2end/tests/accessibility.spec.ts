import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { createStream, expect, newEmail, signUp, test } from "./helpers";

/** Runs axe-core on the page as it stands; fails on any serious or critical violation. */
async function audit(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const grave = results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 3).map((node) => node.target.join(" ")),
    }));
  expect(grave, `${what}: ${JSON.stringify(grave, null, 2)}`).toEqual([]);
}

test("the signed-out pages have no serious accessibility violation", async ({ page }) => {
  for (const path of ["/sign-in", "/sign-up"]) {
    await page.goto(path);
    await audit(page, path);
  }
});

test("every console page, side-panel tab and dialog has no serious accessibility violation", async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, newEmail("axe"));
  const otp = await createStream(page, "sms_otp", "Logins");
  const chat = await createStream(page, "whatsapp", "Chat");
  // A code in the OTP stream's Inbox, highlighted, with its copy button.
  const token = await (await page.request.post("/api/streams/token", { data: { id: otp } })).json();
  const sent = await page.request.post("/otp/auth", {
    headers: { Authorization: token },
    data: { recipient_phone: "+447700900123", sender: "AcmeApp" },
  });
  expect(sent.ok()).toBeTruthy();
  const pages = ["/streams", "/streams/new", "/realtime", "/messages", "/sender-ids", "/connections", "/api-docs", "/account"];
  pages.push("/streams/new?type=sms_otp", "/streams/new?type=whatsapp", `/streams/${otp}/edit`, "/no-such-page");
  for (const path of pages) {
    await page.goto(path);
    await audit(page, path);
  }
  for (const [id, tabs] of [
    [otp, ["info", "settings", "events", "webhooks", "embed", "inbox", "requests"]],
    [chat, ["whatsapp"]],
  ] as const) {
    for (const tab of tabs) {
      await page.goto(`/streams?stream=${id}&tab=${tab}`);
      await expect(page.getByTestId("side-panel")).toBeVisible();
      await audit(page, `panel ${tab}`);
    }
  }
  await page.goto("/streams");
  await page.getByRole("button", { name: "Actions for Logins" }).click();
  await audit(page, "row menu");
  await page.getByRole("menuitem", { name: "Show token" }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await audit(page, "token dialog");
});

test("every widget has no serious accessibility violation, light and dark", async ({ page }) => {
  await signUp(page, newEmail("axe-widgets"));
  const id = await createStream(page, "sms_marketing", "Promotions");
  await page.goto(`/streams?stream=${id}&tab=embed`);
  const panel = page.getByTestId("side-panel");
  await panel.getByLabel("Name", { exact: true }).fill("Audit");
  await panel.getByLabel("Allowed sites").fill("https://tools.acme.io");
  await panel.getByLabel("Allow test sends (the send widget)").check();
  await panel.getByRole("button", { name: "Create embed key" }).click();
  await audit(page, "embed tab with a new key");
  const key = await panel.getByTestId("embed-key-value").textContent();
  for (const widget of ["stats", "messages", "send"]) {
    for (const theme of ["light", "dark"]) {
      await page.goto(`/embed/${widget}?key=${key}&theme=${theme}`);
      await expect(page.getByTestId("widget")).toBeVisible();
      await audit(page, `${widget} widget, ${theme}`);
    }
  }
});
