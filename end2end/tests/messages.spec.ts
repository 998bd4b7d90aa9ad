import { createStream, newEmail, signUp, test, expect } from "./helpers";

/// What the e2e server's `[retention]` (30 and 90 days) tells customers.
const RETENTION_NOTE =
  "Message text is redacted 30 days after a message was sent or received, and messages are deleted after 90 days.";

test("messages sent through the API appear in the log, turn delivered live, and filter", async ({ page }) => {
  await signUp(page, newEmail("messages"));
  const promo = await createStream(page, "sms_marketing", "Promo");
  await createStream(page, "sms_transactional", "Receipts");
  const token = await (await page.request.post("/api/streams/token", { data: { id: promo } })).json();

  const sent = await page.request.post("/simple_send/", {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      messages: [
        { internal_id: "a", sender: "Acme", recipient_phone: "+447700900123", message_content: "Spring sale starts now" },
        { internal_id: "b", sender: "Acme", recipient_phone: "+447700900124", message_content: "Привет" },
        { internal_id: "c", sender: "Acme", recipient_phone: "+447700900125", message_content: "x".repeat(200) },
      ],
    },
  });
  expect(sent.ok()).toBeTruthy();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Messages" }).click();
  await expect(page.getByTestId("messages-total")).toHaveText("Total: 3 messages");
  await expect(page.getByTestId("messages-retention")).toHaveText(RETENTION_NOTE);
  const rows = page.getByTestId("message-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: "Привет" })).toContainText("1 × UCS-2");
  await expect(rows.filter({ hasText: "+447700900125" })).toContainText("2 × GSM-7");
  // The demo channel reports after 1.5 s; the log follows without a reload.
  for (const row of await rows.all()) {
    await expect(row).toContainText("delivered", { timeout: 15_000 });
  }

  await page.getByLabel("Phone").fill("900124");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/phone=900124/);
  await expect(page.getByTestId("messages-total")).toHaveText("Total: 1 message");

  await page.getByRole("link", { name: "Clear" }).click();
  await page.getByLabel("Stream").selectOption({ label: "Receipts" });
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("empty-state")).toContainText("No messages match");

  await page.goto("/messages?status=delivered&direction=outbound");
  await expect(page.getByTestId("messages-total")).toHaveText("Total: 3 messages");
  await page.goto("/messages?status=expired");
  await expect(page.getByTestId("empty-state")).toContainText("No messages match");
});

test("Test stream API sends through the real API and follows the status live", async ({ page }) => {
  await signUp(page, newEmail("tester"));
  await createStream(page, "sms_marketing", "Try me");
  await createStream(page, "sms_otp", "Codes");
  await page.goto("/streams");

  await page.getByLabel("Actions for Try me").click();
  await page.getByRole("menuitem", { name: "Test stream API" }).click();
  const dialog = page.getByRole("dialog", { name: "Test Try me" });
  await dialog.getByLabel("Recipient phone").fill("12345");
  await dialog.getByLabel("Sender", { exact: true }).fill("Acme");
  await dialog.getByRole("button", { name: "Send test" }).click();
  await expect(dialog.getByTestId("test-result")).toContainText("HTTP 422");
  await dialog.getByLabel("Recipient phone").fill("+447700900123");
  await dialog.getByRole("button", { name: "Send test" }).click();
  await expect(dialog.getByTestId("test-status")).toHaveText("delivered", { timeout: 15_000 });
  await expect(dialog.getByTestId("test-result")).toContainText("queued → sent → delivered");
  await dialog.getByRole("button", { name: "Close" }).click();
  await page.getByRole("link", { name: "Try me" }).click();
  await expect(page.getByTestId("stream-stats")).toContainText("Sent1Delivered1Failed0In flight0");
  await page.keyboard.press("Escape");

  await page.getByLabel("Actions for Codes").click();
  await page.getByRole("menuitem", { name: "Test stream API" }).click();
  const otp = page.getByRole("dialog", { name: "Test Codes" });
  await expect(otp).toContainText("/otp/auth");
  await otp.getByLabel("Recipient phone").fill("+447700900124");
  await otp.getByLabel("Sender", { exact: true }).fill("Acme");
  await otp.getByRole("button", { name: "Send test" }).click();
  await expect(otp.getByTestId("test-status")).toHaveText("delivered", { timeout: 15_000 });

  await page.goto("/messages");
  await expect(page.getByTestId("messages-total")).toHaveText("Total: 2 messages");
  await expect(page.getByTestId("message-row").first()).toContainText("Your verification code is");
});

test("Test stream API starts a WhatsApp conversation with one of the stream's templates", async ({ page }) => {
  await signUp(page, newEmail("wa-tester"));
  const id = await createStream(page, "whatsapp", "Chat");
  const configured = await page.request.post("/api/streams/whatsapp/save", {
    data: { id, input: { business_account_id: "102290129340398", phone_number_ids: ["106540352242922"] } },
  });
  expect(configured.ok()).toBeTruthy();
  for (const template of [
    { name: "hello_world", language: "en_US", body: "Hello from Acme!" },
    { name: "order_update", language: "en_GB", body: "Order {{1}} arrives on {{2}}." },
  ]) {
    expect((await page.request.post("/api/streams/whatsapp/templates/add", { data: { id, template } })).ok()).toBeTruthy();
  }
  await page.goto("/streams");

  await page.getByLabel("Actions for Chat").click();
  await page.getByRole("menuitem", { name: "Test stream API" }).click();
  const dialog = page.getByRole("dialog", { name: "Test Chat" });
  await expect(dialog).toContainText("/whatsapp/template/");
  await dialog.getByLabel("Recipient phone").fill("+447700900125");
  await dialog.getByLabel("Template").selectOption({ label: "order_update (en_GB)" });
  await expect(dialog.getByTestId("test-template-body")).toHaveText("Order {{1}} arrives on {{2}}.");
  await dialog.getByLabel("Parameter {{1}}").fill("A-1001");
  await dialog.getByRole("button", { name: "Send test" }).click();
  // Every parameter is required: the API's own error is shown.
  await expect(dialog.getByTestId("test-result")).toContainText("HTTP 422");
  await dialog.getByLabel("Parameter {{2}}").fill("Friday");
  await dialog.getByRole("button", { name: "Send test" }).click();
  await expect(dialog.getByTestId("test-status")).toHaveText("delivered", { timeout: 15_000 });
  await dialog.getByRole("button", { name: "Close" }).click();

  await page.goto("/messages");
  // The template went out with its parameters filled in (the demo handset may have replied since).
  await expect(page.getByTestId("message-row").filter({ hasText: "Order A-1001 arrives on Friday." })).toHaveCount(1);
});

test("the Realtime page follows streams live over Server-Sent Events and filters them", async ({ page }) => {
  await signUp(page, newEmail("realtime"));
  const promo = await createStream(page, "sms_marketing", "Live promo", ["promo"]);
  await createStream(page, "sms_transactional", "Quiet receipts", ["billing"]);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Realtime" }).click();
  await expect(page.getByTestId("live-indicator")).toHaveText("Live");
  // The two made here and the account's two starters.
  await expect(page.getByTestId("realtime-row")).toHaveCount(4);

  const token = await (await page.request.post("/api/streams/token", { data: { id: promo } })).json();
  const sent = await page.request.post("/simple_send/", {
    headers: { Authorization: token },
    data: {
      messages: [1, 2, 3].map((n) => ({
        internal_id: `live-${n}`,
        sender: "Acme",
        recipient_phone: `+44770090012${n}`,
        message_content: "Live!",
      })),
    },
  });
  expect(sent.ok()).toBeTruthy();
  const row = page.getByTestId("realtime-row").filter({ hasText: "Live promo" });
  // No reload: the numbers arrive by the event stream.
  await expect(row).toContainText("3");
  await expect(page.getByTestId("live-totals")).toContainText("3/min");
  await expect(page.getByTestId("live-totals")).toContainText("3 delivered", { timeout: 15_000 });

  await page.getByLabel("Tag").selectOption("billing");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/tag=billing/);
  await expect(page.getByTestId("realtime-row")).toHaveCount(1);
  await expect(page.getByTestId("realtime-row")).toContainText("Quiet receipts");
  await page.goto("/realtime?name=nothing");
  await expect(page.getByTestId("empty-state")).toContainText("No streams to follow");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the log and how long messages are kept are in the page as served", async ({ page, browser }) => {
    const owner = await browser.newContext({ javaScriptEnabled: true, baseURL: test.info().project.use.baseURL });
    const console = await owner.newPage();
    await signUp(console, newEmail("messages-nojs"));
    const stream = await createStream(console, "sms_marketing", "Plain log");
    const token = await (await console.request.post("/api/streams/token", { data: { id: stream } })).json();
    const sent = await console.request.post("/simple_send/", {
      headers: { Authorization: `Bearer ${token}` },
      data: { messages: [{ sender: "Acme", recipient_phone: "+447700900321", message_content: "Served without scripts" }] },
    });
    expect(sent.ok()).toBeTruthy();
    await page.context().addCookies(await owner.cookies());
    await owner.close();

    await page.goto("/messages");
    await expect(page.getByTestId("messages-total")).toHaveText("Total: 1 message");
    await expect(page.getByTestId("message-row")).toContainText("Served without scripts");
    await expect(page.getByTestId("messages-retention")).toHaveText(RETENTION_NOTE);
  });
});
