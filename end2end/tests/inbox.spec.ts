import type { Page } from "@playwright/test";
import { createStream, expect, newEmail, signUp, test } from "./helpers";

/** Sends a code through the OTP stream's API, as the customer's product would. */
async function sendCode(page: Page, streamId: string, phone: string) {
  const token = await (await page.request.post("/api/streams/token", { data: { id: streamId } })).json();
  const response = await page.request.post("/otp/auth", {
    headers: { Authorization: token },
    data: { recipient_phone: phone, sender: "AcmeApp" },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
}

test("a demo stream's Inbox shows each text as a phone would, live, with its code to copy", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page, newEmail("inbox"));
  const streamId = await createStream(page, "sms_otp", "Sign-in codes");
  await sendCode(page, streamId, "+447700900123");

  await page.goto(`/streams?stream=${streamId}&tab=inbox`);
  const panel = page.getByTestId("side-panel");
  await expect(panel.getByRole("tab", { name: "Inbox" })).toHaveAttribute("aria-selected", "true");
  const messages = panel.getByTestId("inbox-message");
  await expect(messages).toHaveCount(1);
  const code = (await messages.first().getByTestId("inbox-code").textContent()) ?? "";
  expect(code).toMatch(/^\d{4,8}$/);
  // The whole text, the code in it marked: not the masked copy the Messages page shows.
  await expect(messages.first().getByTestId("inbox-text")).toContainText(code);
  await expect(messages.first().locator("mark")).toHaveText(code);

  await messages.first().getByRole("button", { name: "Copy the code" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);

  // A text sent while the tab is open appears without a reload, newest first.
  await sendCode(page, streamId, "+447700900456");
  await expect(messages).toHaveCount(2);
  await expect(messages.first().getByTestId("inbox-recipient")).toHaveText("+447700900456");

  // Filtered by recipient, and by age.
  await panel.getByLabel("Recipient").fill("+44 7700 900123");
  await panel.getByLabel("Recipient").press("Enter");
  await expect(messages).toHaveCount(1);
  await expect(messages.first().getByTestId("inbox-recipient")).toHaveText("+447700900123");
  await panel.getByLabel("Recipient").fill("not a phone");
  await panel.getByLabel("Recipient").press("Enter");
  await expect(panel.getByRole("alert")).toBeVisible();
  await panel.getByLabel("Recipient").fill("");
  await panel.getByLabel("Recipient").press("Enter");
  await panel.getByLabel("Since").selectOption({ label: "Last 5 minutes" });
  await expect(messages).toHaveCount(2);
  await expect(panel.getByRole("alert")).toHaveCount(0);
});

test("streams that send to real numbers have no Inbox", async ({ page }) => {
  await signUp(page, newEmail("inbox-real"));
  const streamId = await createStream(page, "sms_transactional", "Receipts", [], false);
  await page.goto(`/streams?stream=${streamId}&tab=inbox`);
  const panel = page.getByTestId("side-panel");
  await expect(panel.getByRole("tab", { name: "Info" })).toHaveAttribute("aria-selected", "true");
  await expect(panel.getByRole("tab", { name: "Inbox" })).toHaveCount(0);
  // Nor does its server function open one.
  const answer = await page.request.post("/api/messages/inbox", {
    data: { id: streamId, recipient: "", since_minutes: null },
  });
  expect(answer.ok()).toBeFalsy();
  expect(await answer.text()).toContain("not_a_demo_stream");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the Inbox still shows the texts", async ({ page, browser }) => {
    // Signed up and sent from a console with JavaScript; read without.
    const owner = await browser.newContext({ javaScriptEnabled: true, baseURL: test.info().project.use.baseURL });
    const setup = await owner.newPage();
    await signUp(setup, newEmail("inbox-nojs"));
    const streamId = await createStream(setup, "sms_otp", "Codes");
    await sendCode(setup, streamId, "+447700900789");
    await page.context().addCookies(await owner.cookies());
    await owner.close();
    await page.goto(`/streams?stream=${streamId}&tab=inbox`);
    const message = page.getByTestId("inbox-message");
    await expect(message).toHaveCount(1);
    await expect(message.getByTestId("inbox-code")).toHaveText(/^\d{4,8}$/);
  });
});
