import http from "node:http";
import type { AddressInfo } from "node:net";

import { createStream, newEmail, signUp, test, streamRow, expect } from "./helpers";

test("the side panel opens on a name, deep-links its tabs and moves with the arrow keys", async ({ page }) => {
  await signUp(page, newEmail("panel"));
  const id = await createStream(page, "sms_otp", "Login codes", ["auth"]);
  await page.goto("/streams?tag=auth");

  await page.getByRole("link", { name: "Login codes" }).click();
  await expect(page).toHaveURL(new RegExp(`/streams\\?tag=auth&stream=${id}&tab=info$`));
  const panel = page.getByRole("dialog", { name: "Login codes" });
  await expect(panel.getByRole("tab")).toHaveText(["Info", "Settings", "Events", "Webhooks", "Embed", "Inbox", "Request API"]);
  await expect(panel.getByRole("tab", { name: "Info" })).toHaveAttribute("aria-selected", "true");

  await panel.getByRole("tab", { name: "Info" }).focus();
  await page.keyboard.press("ArrowRight");
  await expect(page).toHaveURL(/tab=settings$/);
  await expect(panel.getByRole("tab", { name: "Settings" })).toBeFocused();
  await page.keyboard.press("End");
  await expect(page).toHaveURL(/tab=requests$/);
  await expect(panel.getByTestId("request-preview").first()).toContainText("/otp/auth");
  await page.keyboard.press("ArrowRight");
  await expect(page).toHaveURL(/tab=info$/);

  // A shared link opens the same stream at the same tab, even without a click.
  await page.goto(`/streams?stream=${id}&tab=events`);
  await expect(page.getByRole("tab", { name: "Events" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("events-empty")).toBeVisible();
  // A tab this type lacks falls back to Info.
  await page.goto(`/streams?stream=${id}&tab=whatsapp`);
  await expect(page.getByRole("tab", { name: "Info" })).toHaveAttribute("aria-selected", "true");

  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/\/streams$/);
  await expect(page.getByTestId("side-panel")).toHaveCount(0);
});

test("the Info tab edits details in place and the table follows", async ({ page }) => {
  await signUp(page, newEmail("info"));
  const id = await createStream(page, "sms_marketing", "Spring sale");
  await page.goto(`/streams?stream=${id}&tab=info`);

  const panel = page.getByTestId("side-panel");
  await expect(panel.getByTestId("stream-facts")).toContainText("Marketing");
  await panel.getByLabel("Stream API name").fill("");
  await panel.getByRole("button", { name: "Save details" }).click();
  await expect(panel.getByText("Enter a name for the stream.")).toBeVisible();
  await panel.getByLabel("Stream API name").fill("Summer sale");
  await panel.getByLabel("Throughput limit (messages per second)").fill("0");
  await panel.getByRole("button", { name: "Save details" }).click();
  await expect(panel.getByText("Enter a whole number of messages per second from 1 to 10000")).toBeVisible();
  await panel.getByLabel("Throughput limit (messages per second)").fill("25");
  await panel.getByLabel("Tags", { exact: true }).fill("seasonal");
  await panel.getByRole("button", { name: "Add tag" }).click();
  await panel.getByRole("button", { name: "Save details" }).click();
  await expect(page.getByTestId("toast")).toContainText("Stream details saved.");
  await expect(page.getByRole("dialog", { name: "Summer sale" })).toBeVisible();
  await expect(panel.getByTestId("stream-facts")).toContainText("25 messages/s");
  await expect(streamRow(page, "Summer sale")).toContainText("seasonal");
});

test("events are created, edited and deleted from the Events tab", async ({ page }) => {
  await signUp(page, newEmail("events"));
  const id = await createStream(page, "sms_transactional", "Orders");
  await page.goto(`/streams?stream=${id}&tab=events`);
  const panel = page.getByTestId("side-panel");

  await panel.getByLabel("Event key").fill("Order Shipped");
  await panel.getByLabel("Message template").fill("Order {{order}} shipped to {{city}}");
  await expect(panel.getByTestId("event-variables")).toHaveText("Variables: order, city");
  await panel.getByRole("button", { name: "Save event" }).click();
  await expect(panel.getByText("Use 1 to 64 lowercase letters")).toBeVisible();
  await panel.getByLabel("Event key").fill("order_shipped");
  await panel.getByRole("button", { name: "Save event" }).click();
  await expect(page.getByTestId("toast")).toContainText("Event order_shipped saved.");
  await expect(panel.getByTestId("event-row")).toContainText("Order {{order}} shipped to {{city}}");

  await panel.getByRole("button", { name: "Edit order_shipped" }).click();
  await expect(panel.getByRole("heading", { name: "Edit event" })).toBeVisible();
  await panel.getByLabel("Message template").fill("Order {{order}} is on its way");
  await panel.getByLabel("Active").uncheck();
  await panel.getByRole("button", { name: "Save event" }).click();
  await expect(panel.getByTestId("event-row")).toContainText("is on its way");
  await expect(panel.getByTestId("event-row")).toContainText("Inactive");

  await panel.getByRole("button", { name: "Delete order_shipped" }).click();
  await page.getByRole("button", { name: "Delete event" }).click();
  await expect(page.getByTestId("toast")).toContainText("Event order_shipped deleted.");
  await expect(panel.getByTestId("events-empty")).toBeVisible();
});

test("OTP settings are saved from the Settings tab", async ({ page }) => {
  await signUp(page, newEmail("otp"));
  const id = await createStream(page, "sms_otp", "Codes");
  await page.goto(`/streams?stream=${id}&tab=settings`);
  const panel = page.getByTestId("side-panel");

  await panel.getByLabel("Codes per phone per day").fill("2");
  await panel.getByRole("button", { name: "Save settings" }).click();
  await expect(panel.getByText("Codes per day cannot be fewer than codes per hour.")).toBeVisible();
  await panel.getByLabel("Codes per phone per day").fill("50");
  await panel.getByLabel("Code lifetime (seconds)").fill("120");
  await panel.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("toast")).toContainText("OTP settings saved.");
  await page.reload();
  await expect(page.getByLabel("Code lifetime (seconds)")).toHaveValue("120");
  await expect(page.getByLabel("Codes per phone per day")).toHaveValue("50");
});

test("the Webhooks tab saves the endpoint, shows and rotates the signing secret, and removes it", async ({ page }) => {
  await signUp(page, newEmail("webhooks"));
  const id = await createStream(page, "sms_two_way", "Replies");
  await page.goto(`/streams?stream=${id}&tab=webhooks`);
  const panel = page.getByTestId("side-panel");

  await panel.getByLabel("Webhook URL").fill("not a url");
  await panel.getByRole("button", { name: "Save webhook" }).click();
  await expect(panel.getByText("Enter a full URL")).toBeVisible();
  await panel.getByLabel("Method").selectOption("GET");
  await panel.getByLabel("Webhook URL").fill("https://hooks.example.com/in");
  await panel.getByRole("button", { name: "Add header" }).click();
  await panel.getByLabel("Header name").fill("Content-Type");
  await panel.getByLabel("Header value").fill("text/plain");
  await panel.getByRole("button", { name: "Save webhook" }).click();
  await expect(panel.getByText("Content-Type is set by Sluice")).toBeVisible();
  await panel.getByLabel("Header name").fill("Authorization");
  await panel.getByLabel("Header value").fill("Bearer abc");
  await panel.getByRole("button", { name: "Save webhook" }).click();
  await expect(page.getByTestId("toast")).toContainText("Webhook saved.");
  await expect(panel.getByTestId("webhook-preview")).toContainText("GET https://hooks.example.com/in");

  await panel.getByRole("button", { name: "Show secret" }).click();
  const secret = await panel.getByTestId("webhook-secret").textContent();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
  await panel.getByRole("button", { name: "Rotate secret" }).click();
  await expect(page.getByTestId("toast")).toContainText("Signing secret rotated");
  await expect(panel.getByTestId("webhook-secret")).not.toHaveText(secret!);

  await page.reload();
  await expect(page.getByLabel("Webhook URL")).toHaveValue("https://hooks.example.com/in");
  await expect(page.getByLabel("Header value")).toHaveValue("Bearer abc");
  await page.getByRole("button", { name: "Remove webhook" }).click();
  await page.getByRole("dialog", { name: "Remove the webhook?" }).getByRole("button", { name: "Remove webhook" }).click();
  await expect(page.getByTestId("toast")).toContainText("Webhook removed");
  await expect(page.getByRole("button", { name: "Show secret" })).toHaveCount(0);
});

test("the WhatsApp tab saves settings and manages templates", async ({ page }) => {
  await signUp(page, newEmail("whatsapp"));
  const id = await createStream(page, "whatsapp", "Support chat");
  await page.goto(`/streams?stream=${id}&tab=whatsapp`);
  const panel = page.getByTestId("side-panel");
  await expect(panel.getByRole("tab")).toHaveText(["Info", "WhatsApp", "Webhooks", "Embed", "Inbox", "Request API"]);

  await panel.getByLabel("WhatsApp Business Account ID").fill("acme");
  await panel.getByRole("button", { name: "Save WhatsApp settings" }).click();
  await expect(panel.getByText("is not a Business Account ID")).toBeVisible();
  await panel.getByLabel("WhatsApp Business Account ID").fill("102290129340398");
  await panel.getByLabel("Phone-number IDs (senders)").fill("106540352242922");
  await panel.getByRole("button", { name: "Add", exact: true }).click();
  await panel.getByLabel("Permanent access token").fill("EAAG-token");
  await panel.getByLabel("App secret (checks inbound signatures)").fill("app-secret");
  await panel.getByRole("button", { name: "Save WhatsApp settings" }).click();
  await expect(page.getByTestId("toast")).toContainText("WhatsApp settings saved.");
  await expect(panel.getByLabel("Permanent access token")).toHaveValue("");
  await expect(panel.getByText("Stored encrypted. Leave empty to keep it")).toHaveCount(2);

  await panel.getByLabel("Template name").fill("order_update");
  await panel.getByLabel("Body").fill("Order {{1}} ships {{2}}");
  await panel.getByRole("button", { name: "Add template" }).click();
  await expect(panel.getByTestId("template-row")).toContainText("order_update (en_US)");
  await expect(panel.getByTestId("template-row")).toContainText("2 parameter(s)");
  await expect(panel.getByLabel("Template name")).toHaveValue("");
  await panel.getByLabel("Template name").fill("order_update");
  await panel.getByLabel("Body").fill("Another body");
  await panel.getByRole("button", { name: "Add template" }).click();
  await expect(panel.getByText("is already listed")).toBeVisible();
  await panel.getByRole("button", { name: "Remove template order_update (en_US)" }).click();
  await expect(panel.getByText("No templates yet.")).toBeVisible();
});

test("dialogs and menus keep the keyboard inside and close on Escape", async ({ page }) => {
  await signUp(page, newEmail("keyboard"));
  await createStream(page, "sms_marketing", "Keys");
  await page.goto("/streams");

  const menuButton = page.getByLabel("Actions for Keys");
  await menuButton.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("menuitem", { name: "Show token" })).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(page.getByRole("menuitem", { name: "Delete" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("menuitem", { name: "Delete" })).toBeHidden();
  await expect(menuButton).toBeFocused();

  await page.keyboard.press("Enter");
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete Keys?" });
  await expect(dialog.getByRole("button", { name: "Delete stream" })).toBeFocused();
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    const inside = await dialog.evaluate((node) => node.contains(document.activeElement));
    expect(inside).toBeTruthy();
  }
  await page.keyboard.press("Shift+Tab");
  expect(await dialog.evaluate((node) => node.contains(document.activeElement))).toBeTruthy();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(streamRow(page, "Keys")).toBeVisible();
});

test("the Webhooks tab sends a test event, logs each attempt and retries on demand", async ({ page }) => {
  // The customer's endpoint: fails the first request, accepts the rest.
  const received: string[] = [];
  const answers = [500];
  const receiver = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push(body);
      const status = answers.shift() ?? 200;
      response.writeHead(status, { "content-type": "text/plain" });
      response.end(`answered ${status}`);
    });
  });
  await new Promise<void>((listening) => receiver.listen(0, "127.0.0.1", listening));
  const { port } = receiver.address() as AddressInfo;
  try {
    await signUp(page, newEmail("deliveries"));
    const id = await createStream(page, "sms_two_way", "Replies");
    const saved = await page.request.post("/api/streams/webhook/save", {
      data: { id, input: { method: "POST", url: `http://127.0.0.1:${port}/hooks`, headers: [], enabled: true } },
    });
    expect(saved.ok()).toBeTruthy();
    await page.goto(`/streams?stream=${id}&tab=webhooks`);
    const panel = page.getByTestId("side-panel");
    await expect(panel.getByTestId("webhook-deliveries")).toContainText("Nothing sent yet");

    await panel.getByRole("button", { name: "Test webhook" }).click();
    await expect(page.getByTestId("toast")).toContainText("Test event queued.");
    const delivery = panel.getByTestId("webhook-delivery").first();
    await expect(delivery).toContainText("webhook.test");
    await expect(delivery.getByTestId("webhook-attempt").first()).toContainText("HTTP 500");
    await expect(delivery).toContainText("answered 500");
    await expect(delivery).toContainText("Pending");

    await delivery.getByRole("button", { name: /^Retry delivery/ }).click();
    await expect(delivery).toContainText("Delivered");
    await expect(delivery.getByTestId("webhook-attempt")).toHaveCount(2);
    await expect(delivery.getByTestId("webhook-attempt").nth(1)).toContainText("HTTP 200");
    expect(received).toHaveLength(2);
    expect(JSON.parse(received[0]).type).toBe("webhook.test");
  } finally {
    receiver.close();
  }
});
