import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "@playwright/test";
import { createStream, expect, hydrated, newEmail, signUp, test } from "./helpers";

/** A product team's site on an origin of its own (another port), serving `page.html`. */
async function teamSite() {
  const page = { html: "<!doctype html><title>Acme tools</title>" };
  const server = http.createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(page.html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    page,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Makes a key in the stream's Embed tab; answers the snippet shown once. */
async function createKey(page: Page, streamId: string, origin: string, allowSend: boolean) {
  await page.goto(`/streams?stream=${streamId}&tab=embed`);
  await hydrated(page);
  const panel = page.getByTestId("side-panel");
  await panel.getByLabel("Name", { exact: true }).fill("Support board");
  await panel.getByLabel("Allowed sites").fill(origin);
  if (allowSend) await panel.getByLabel("Allow test sends (the send widget)").check();
  await panel.getByRole("button", { name: "Create embed key" }).click();
  await expect(panel.getByTestId("created-key")).toBeVisible();
  return {
    snippet: (await panel.getByTestId("embed-snippet").textContent()) ?? "",
    key: (await panel.getByTestId("embed-key-value").textContent()) ?? "",
  };
}

async function sendThroughApi(page: Page, streamId: string, phone: string) {
  const token = await (await page.request.post("/api/streams/token", { data: { id: streamId } })).json();
  const response = await page.request.post("/simple_send/", {
    headers: { Authorization: token },
    data: { messages: [{ sender: "AcmeShop", recipient_phone: phone, message_content: "Your order shipped" }] },
  });
  expect(response.ok()).toBeTruthy();
}

test("a pasted snippet shows the stream live on another site, and revoking closes it", async ({ page, context }) => {
  const site = await teamSite();
  try {
    await signUp(page, newEmail("embed"));
    const streamId = await createStream(page, "sms_marketing", "Shop alerts");
    const { snippet } = await createKey(page, streamId, site.origin, true);
    expect(snippet).toContain("/embed.js");
    site.page.html = `<!doctype html><title>Acme tools</title><h1>Support</h1>${snippet}`;

    const team = await context.newPage();
    await team.goto(site.origin);
    const stats = team.frameLocator('iframe[title="Delivery"]');
    await expect(stats.getByRole("heading", { name: "Shop alerts" })).toBeVisible();
    await expect(stats.getByTestId("stat-sent")).toHaveText("0");

    // A message sent through the API moves the stats and lists, masked, in the messages widget.
    await sendThroughApi(page, streamId, "+447700900123");
    await expect(stats.getByTestId("stat-sent")).toHaveText("1");
    await expect(stats.getByTestId("stat-delivered")).toHaveText("1");
    const messages = team.frameLocator('iframe[title="Recent messages"]');
    await expect(messages.getByTestId("widget-message")).toContainText("+•••••••••123");

    // The frame follows its content's height.
    await expect
      .poll(async () => team.locator('iframe[title="Recent messages"]').evaluate((frame) => frame.getBoundingClientRect().height))
      .not.toBe(160);

    // The key may send: the send widget queues a message through the stream's rules.
    const send = team.frameLocator('iframe[title="Send a test message"]');
    await send.getByLabel("Sender").fill("AcmeShop");
    await send.getByLabel("Phone number").fill("+447700900124");
    await send.getByLabel("Message", { exact: true }).fill("Hello from the board");
    await send.getByRole("button", { name: "Send test message" }).click();
    await expect(send.getByTestId("send-result")).toContainText("Queued as");
    await expect(stats.getByTestId("stat-sent")).toHaveText("2");

    // Revoked in the console: the open widgets say so and stop.
    const panel = page.getByTestId("side-panel");
    await panel.getByRole("button", { name: "Revoke Support board" }).click();
    await page.getByRole("dialog", { name: "Revoke the key Support board?" }).getByRole("button", { name: "Revoke key" }).click();
    await expect(panel.getByTestId("embed-key-state")).toContainText("Revoked");
    await expect(stats.getByTestId("widget-closed")).toContainText("revoked");
    await expect(messages.getByTestId("widget-closed")).toBeVisible();
    await team.close();
  } finally {
    await site.close();
  }
});

test("a site the key does not list cannot frame its widgets", async ({ page, context }) => {
  const listed = await teamSite();
  const other = await teamSite();
  try {
    await signUp(page, newEmail("embed-origin"));
    const streamId = await createStream(page, "sms_transactional", "Receipts");
    const { snippet } = await createKey(page, streamId, listed.origin, false);
    other.page.html = `<!doctype html><title>Elsewhere</title>${snippet}`;
    const team = await context.newPage();
    await team.goto(other.origin);
    const frame = team.locator('iframe[title="Delivery"]');
    await frame.evaluate(
      (element: HTMLIFrameElement) =>
        new Promise((resolve) => {
          element.addEventListener("load", resolve, { once: true });
          setTimeout(resolve, 5_000);
        }),
    );
    await expect(team.frameLocator('iframe[title="Delivery"]').getByTestId("widget")).toHaveCount(0);
    // Only read widgets without the send permission.
    expect(snippet).not.toContain('data-sluice-widget="send"');
    await team.close();
  } finally {
    listed.close();
    other.close();
  }
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a widget is a complete snapshot and its send form still sends", async ({ page, browser }) => {
    // The stream and its key are made in a console with JavaScript, as a person would.
    const owner = await browser.newContext({ javaScriptEnabled: true, baseURL: test.info().project.use.baseURL });
    const console = await owner.newPage();
    await signUp(console, newEmail("embed-nojs"));
    const streamId = await createStream(console, "sms_marketing", "Plain alerts");
    await sendThroughApi(console, streamId, "+447700900555");
    const { key } = await createKey(console, streamId, "https://tools.acme.io", true);
    await owner.close();

    await page.goto(`/embed/stats?key=${key}&theme=dark&accent=0f766e`);
    await expect(page.getByRole("heading", { name: "Plain alerts" })).toBeVisible();
    await expect(page.getByTestId("stat-sent")).toHaveText("1");
    await expect(page.getByRole("img", { name: /Messages per minute over the last hour: 1 sent/ })).toBeVisible();

    await page.goto(`/embed/send?key=${key}`);
    await page.getByLabel("Sender").fill("AcmeShop");
    await page.getByLabel("Phone number").fill("+447700900556");
    await page.getByLabel("Message", { exact: true }).fill("Plain form");
    await page.getByRole("button", { name: "Send test message" }).click();
    await expect(page).toHaveURL(/\/embed\/send\?key=.*sent=/);
    await expect(page.getByTestId("send-result")).toContainText("Queued as");
  });
});
