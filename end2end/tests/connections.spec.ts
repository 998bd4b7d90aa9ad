import http from "node:http";
import type { AddressInfo } from "node:net";

import { createStream, newEmail, signUp, test, expect } from "./helpers";

/** An SMS provider on this machine: records each request and accepts it with an id of its own. */
async function provider() {
  const received: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ url: request.url ?? "", headers: request.headers, body });
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ id: `prov-${received.length}` }));
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return { port, received, close: () => server.close() };
}

test("connections are added, checked, edited, made default and deleted", async ({ page }) => {
  await signUp(page, newEmail("connections"));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Connections" }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByTestId("empty-state")).toContainText("No connections yet");

  await page.getByRole("button", { name: "Add connection" }).click();
  const form = page.getByRole("form", { name: "Connection" });
  await form.getByLabel("Name", { exact: true }).fill("Provider A");
  await form.getByLabel("Send URL").fill("ftp://sms.example.com");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(form.getByRole("alert")).toContainText("Enter the provider's full send URL");
  await expect(form.getByLabel("Name", { exact: true })).toHaveValue("Provider A");

  await form.getByLabel("Send URL").fill("https://sms.example.com/v1/messages");
  await form.getByLabel("Auth header value").fill("Bearer sk_live_1");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByTestId("toast")).toContainText("Connection Provider A added.");
  const cards = page.getByTestId("connection");
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toContainText("Default");
  await expect(cards.first().getByTestId("health")).toHaveText("Not used yet");
  await expect(cards.first()).toContainText("POST https://sms.example.com/v1/messages");

  // A GET provider carries the message in its URL; the form says so when it does not.
  await page.getByRole("button", { name: "Add connection" }).click();
  await form.getByLabel("Name", { exact: true }).fill("Provider B");
  await form.getByLabel("Method").selectOption("GET");
  await form.getByLabel("Send URL").fill("https://gw.example.net/send?to={to}");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(form.getByRole("alert")).toContainText("use {to}, {from} and {text} there");
  await form.getByLabel("Send URL").fill("https://gw.example.net/send?to={to}&from={from}&text={text}");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByTestId("toast")).toContainText("Connection Provider B added.");
  await expect(cards).toHaveCount(2);

  // An SMPP SMSC: its own fields, and a password SMPP can carry.
  await page.getByRole("button", { name: "Add connection" }).click();
  await form.getByLabel("Kind").selectOption("smpp");
  await expect(form.getByLabel("Send URL")).toHaveCount(0);
  await form.getByLabel("Name", { exact: true }).fill("Carrier SMSC");
  await form.getByLabel("Host").fill("smsc.carrier.example");
  await form.getByLabel("System ID").fill("acme");
  await form.getByLabel("Password").fill("much-too-long");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(form.getByRole("alert")).toContainText("at most 8 ASCII characters");
  await form.getByLabel("Password").fill("s3cret");
  await form.getByLabel("Throughput limit (messages/s)").fill("50");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByTestId("toast")).toContainText("Connection Carrier SMSC added.");
  await expect(cards.filter({ hasText: "Carrier SMSC" })).toContainText("SMPP smsc.carrier.example:2775 as acme (transceiver)");
  // Editing shows the SMSC's own fields as stored.
  await page.getByRole("button", { name: "Edit Carrier SMSC" }).click();
  await expect(form.getByLabel("Kind")).toHaveValue("smpp");
  await expect(form.getByLabel("Host")).toHaveValue("smsc.carrier.example");
  await expect(form.getByLabel("Port")).toHaveValue("2775");
  await expect(form.getByLabel("Throughput limit (messages/s)")).toHaveValue("50");
  await form.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Delete Carrier SMSC" }).click();
  await page.getByRole("dialog", { name: "Delete the connection Carrier SMSC?" }).getByRole("button", { name: "Delete connection" }).click();
  await expect(page.getByTestId("toast")).toContainText("Connection Carrier SMSC deleted.");
  await expect(cards).toHaveCount(2);

  await page.getByRole("button", { name: "Make Provider B the default" }).click();
  await expect(page.getByTestId("toast")).toContainText("Provider B is now the default connection.");
  await expect(cards.first()).toContainText("Provider B");
  await expect(cards.first()).toContainText("Default");

  // Editing keeps the stored secret unless a new one is typed.
  await page.getByRole("button", { name: "Edit Provider A" }).click();
  await expect(form.getByLabel("Name", { exact: true })).toHaveValue("Provider A");
  await expect(form.getByLabel("Send URL")).toHaveValue("https://sms.example.com/v1/messages");
  await expect(form.getByLabel("Method")).toHaveValue("POST");
  await expect(form).toContainText("Stored encrypted. Leave empty to keep it.");
  await form.getByLabel("Name", { exact: true }).fill("Provider A (backup)");
  await form.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByTestId("toast")).toContainText("Connection Provider A (backup) saved.");

  await page.getByRole("button", { name: "Delete Provider B" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete the connection Provider B?" });
  await dialog.getByRole("button", { name: "Delete connection" }).click();
  await expect(page.getByTestId("toast")).toContainText("Connection Provider B deleted.");
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toContainText("Provider A (backup)");
  await expect(cards.first()).toContainText("Default");
});

test("a real SMS stream sends through its connection and follows the provider's report", async ({ page }) => {
  const upstream = await provider();
  try {
    await signUp(page, newEmail("routing"));
    const saved = await page.request.post("/api/connections/save", {
      data: {
        id: null,
        input: {
          name: "Local provider",
          settings: { kind: "http", url: `http://127.0.0.1:${upstream.port}/sms`, id_pointer: "/id" },
          secret: "Bearer sk_test_9",
          is_default: false,
        },
      },
    });
    expect(saved.ok()).toBeTruthy();
    const id = await createStream(page, "sms_two_way", "Real replies", [], false);

    await page.goto(`/streams?stream=${id}&tab=info`);
    const panel = page.getByTestId("side-panel");
    const select = panel.getByLabel("Connection", { exact: true });
    await expect(select.locator("option")).toHaveText(["Account default (Local provider)", "Local provider"]);
    await select.selectOption({ label: "Local provider" });
    await panel.getByRole("button", { name: "Save connection" }).click();
    await expect(page.getByTestId("toast")).toContainText("Connection saved.");
    const inboundPath = (await panel.getByTestId("inbound-path").textContent()) ?? "";
    expect(inboundPath).toMatch(new RegExp(`^/inbound/sms/${id}\\?key=`));

    const token = await (await page.request.post("/api/streams/token", { data: { id } })).json();
    const sent = await page.request.post("/simple_send/", {
      headers: { Authorization: token },
      data: { messages: [{ internal_id: "r-1", sender: "Acme", recipient_phone: "+447700900123", message_content: "Your table is ready" }] },
    });
    expect(sent.ok()).toBeTruthy();

    await page.goto("/messages");
    const row = page.getByTestId("message-row").first();
    await expect(row).toContainText("sent", { timeout: 15_000 });
    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0].headers.authorization).toBe("Bearer sk_test_9");
    expect(JSON.parse(upstream.received[0].body)).toMatchObject({ to: "+447700900123", from: "Acme", text: "Your table is ready" });

    // The provider reports delivery, then the customer replies.
    const report = await page.request.post(inboundPath, { data: { id: "prov-1", status: "DELIVRD" } });
    expect(report.ok()).toBeTruthy();
    await expect(row).toContainText("delivered", { timeout: 15_000 });
    const reply = await page.request.post(inboundPath, { form: { from: "447700900123", to: "Acme", text: "Thanks!" } });
    expect(reply.ok()).toBeTruthy();
    await page.goto("/messages?direction=inbound");
    await expect(page.getByTestId("message-row")).toContainText("Thanks!");

    // A STOP opts the number out; the Info tab lists it.
    const stop = await page.request.post(inboundPath, { form: { from: "447700900124", text: "STOP" } });
    expect(stop.ok()).toBeTruthy();
    await page.goto(`/streams?stream=${id}&tab=info`);
    const optOuts = page.getByTestId("opt-outs");
    await expect(optOuts).toContainText("Opted out (1)");
    await expect(optOuts).toContainText("+447700900124");

    // A new inbound key stops the old address at once; the new key also works as a header.
    await panel.getByRole("button", { name: "New inbound key" }).click();
    await expect(page.getByTestId("toast")).toContainText("New inbound key");
    await expect(panel.getByTestId("inbound-path")).not.toHaveText(inboundPath);
    const rotated = (await panel.getByTestId("inbound-path").textContent()) ?? "";
    const [rotatedPath, query] = rotated.split("?");
    expect(rotatedPath).toBe(`/inbound/sms/${id}`);
    const old = await page.request.post(inboundPath, { form: { from: "447700900125", text: "Hello" } });
    expect(old.status()).toBe(401);
    const key = new URLSearchParams(query).get("key") ?? "";
    const fresh = await page.request.post(rotatedPath, {
      headers: { "X-Sluice-Key": key },
      form: { from: "447700900125", text: "Hello" },
    });
    expect(fresh.ok()).toBeTruthy();

    await page.goto("/connections");
    await expect(page.getByTestId("connection").getByTestId("health")).toContainText("Working");
  } finally {
    upstream.close();
  }
});

test("the WhatsApp tab shows Meta's callback and verify token, and explains a sync it cannot do", async ({ page }) => {
  await signUp(page, newEmail("meta"));
  const id = await createStream(page, "whatsapp", "Support chat", [], false);
  await page.goto(`/streams?stream=${id}&tab=whatsapp`);
  const panel = page.getByTestId("side-panel");
  await expect(panel.getByTestId("callback-path")).toHaveText(`/inbound/whatsapp/${id}`);
  const verify = (await panel.getByTestId("verify-token").textContent()) ?? "";
  expect(verify.length).toBeGreaterThan(20);

  // Meta's handshake with that token answers the challenge.
  const challenge = await page.request.get(
    `/inbound/whatsapp/${id}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(verify)}&hub.challenge=4242`,
  );
  expect(await challenge.text()).toBe("4242");

  await panel.getByRole("button", { name: "Sync from Meta" }).click();
  await expect(page.getByTestId("toast")).toContainText("Save the Business Account ID and access token first.");
});
