import type { Page } from "@playwright/test";

import { createStream, newEmail, signUp, test, streamRow, expect } from "./helpers";

type StreamType = {
  value: string;
  label: string;
  request: string;
  /** The steps between Details and Summary. */
  steps?: (page: Page) => Promise<void>;
  /** What the new stream's side panel shows of those steps. */
  check?: (page: Page) => Promise<void>;
};

async function fillWebhook(page: Page) {
  await expect(page.getByRole("listitem").filter({ hasText: "Incoming Messages Webhook" })).toHaveAttribute("aria-current", "step");
  await page.getByLabel("Method").selectOption("POST");
  await page.getByLabel("Webhook URL").fill("https://hooks.example.com/sluice");
  await page.getByRole("button", { name: "Add header" }).click();
  await page.getByLabel("Header name").fill("X-Api-Key");
  await page.getByLabel("Header value").fill("k-123");
  await page.getByRole("button", { name: "Save & Next" }).click();
  await expect(page.getByTestId("summary")).toContainText("POST https://hooks.example.com/sluice");
  await expect(page.getByTestId("webhook-preview")).toContainText("message.received");
}

const types: StreamType[] = [
  { value: "sms_marketing", label: "Marketing", request: "/simple_send/" },
  { value: "sms_transactional", label: "Transactional", request: "/event_send/" },
  {
    value: "sms_otp",
    label: "OTP",
    request: "/otp/auth",
    steps: async (page) => {
      await expect(page.getByTestId("otp-settings")).toBeVisible();
      await page.getByLabel("Code length").fill("3");
      await page.getByRole("button", { name: "Save & Next" }).click();
      await expect(page.getByText("The code length must be between 4 and 10.")).toBeVisible();
      await page.getByLabel("Code length").fill("6");
      await page.getByLabel("My system provides the code").check();
      await page.getByLabel("Message template").fill("Acme code: [code]");
      await page.getByRole("button", { name: "Save & Next" }).click();
      await expect(page.getByTestId("summary")).toContainText("6 digits, valid 300 s");
      await expect(page.getByTestId("summary")).toContainText("My system provides the code");
    },
    check: async (page) => {
      await page.getByRole("link", { name: "OTP stream" }).click();
      await page.getByRole("tab", { name: "Settings" }).click();
      await expect(page.getByLabel("Code length")).toHaveValue("6");
      await expect(page.getByLabel("Message template")).toHaveValue("Acme code: [code]");
      await page.keyboard.press("Escape");
      await expect(page.getByTestId("side-panel")).toHaveCount(0);
    },
  },
  { value: "sms_two_way", label: "Two-way", request: "/simple_send/", steps: fillWebhook },
  {
    value: "whatsapp",
    label: "WhatsApp",
    request: "/whatsapp/template/",
    steps: async (page) => {
      await page.getByLabel("WhatsApp Business Account ID").fill("102290129340398");
      await page.getByLabel("Phone-number IDs (senders)").fill("106540352242922");
      await page.getByRole("button", { name: "Add", exact: true }).click();
      await page.getByLabel("Permanent access token").fill("EAAG-secret-token");
      await page.getByRole("button", { name: "Save & Next" }).click();
      // The webhook is optional: an empty URL skips it.
      await expect(page.getByTestId("webhook-settings")).toBeVisible();
      await page.getByRole("button", { name: "Save & Next" }).click();
      await expect(page.getByTestId("summary")).toContainText("106540352242922");
      await expect(page.getByTestId("summary")).toContainText("Access tokenSet");
      await expect(page.getByTestId("summary")).toContainText("Incoming webhookNone");
    },
    check: async (page) => {
      await page.getByRole("link", { name: "WhatsApp stream" }).click();
      await page.getByRole("tab", { name: "WhatsApp" }).click();
      await expect(page.getByLabel("WhatsApp Business Account ID")).toHaveValue("102290129340398");
      await expect(page.getByText("Stored encrypted. Leave empty to keep it").first()).toBeVisible();
      await expect(page.getByLabel("Permanent access token")).toHaveValue("");
      await page.getByRole("link", { name: "Close panel" }).click();
      await expect(page.getByTestId("side-panel")).toHaveCount(0);
    },
  },
];

async function createStreams(page: Page, count: number, tagOf: (n: number) => string) {
  for (let n = 1; n <= count; n++) {
    await createStream(page, "sms_marketing", `Bulk ${String(n).padStart(2, "0")}`, [tagOf(n)]);
  }
}

const row = streamRow;

/** Opens a row's ⋯ menu by the role a customer's suite would use. */
async function openActions(page: Page, name: string) {
  const actions = page.getByRole("button", { name: `Actions for ${name}` });
  await expect(actions).toHaveAttribute("aria-expanded", "false");
  await actions.click();
  await expect(actions).toHaveAttribute("aria-expanded", "true");
}

test("a stream of each type is created through the wizard and lands on top", async ({ page }) => {
  await signUp(page, newEmail("wizard"));

  for (const type of types) {
    await page.getByRole("button", { name: "Create Stream API" }).click();
    await page.getByRole("dialog", { name: "Choose a stream type" }).getByRole("link", { name: type.label }).click();
    await expect(page.getByRole("heading", { name: "Create New Stream" })).toBeVisible();
    await page.getByLabel("Stream API name").fill(`${type.label} stream`);
    await page.getByLabel("Stream API description").fill("Made in the browser");
    await page.getByLabel("Enable IP ACL").check();
    await page.getByLabel("Add IP").fill("203.0.113.7");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByLabel("Tags", { exact: true }).fill(type.value);
    await page.getByRole("button", { name: "Add tag" }).click();
    await expect(page.getByLabel("Predictable outcomes")).toHaveCount(0);
    await page.getByLabel("Demo Sending").check();
    // Only a demo stream has outcomes to choose.
    await page.getByLabel("Predictable outcomes").check();
    await page.getByRole("button", { name: "Save & Next" }).click();
    await type.steps?.(page);

    await expect(page.getByTestId("summary")).toContainText(`${type.label} stream`);
    await expect(page.getByTestId("summary")).toContainText("Demo OutcomesPredictable");
    await expect(page.getByTestId("summary")).toContainText("203.0.113.7/32");
    await expect(page.getByText(type.request, { exact: false }).first()).toBeVisible();
    await page.getByRole("button", { name: "Create Stream" }).click();

    const popup = page.getByRole("dialog", { name: "The stream was created successfully" });
    await expect(popup.getByLabel("API token")).toHaveValue(/^[A-Za-z0-9_-]{43}$/);
    await popup.getByRole("button", { name: "Done" }).click();
    await expect(page).toHaveURL(/\/streams$/);
    const first = page.getByTestId("stream-row").first();
    await expect(first).toContainText(`${type.label} stream`);
    await expect(first).toContainText("Ready");
    await expect(first).toContainText(type.label);
    await expect(first).toContainText("203.0.113.7/32");
    await type.check?.(page);
  }
  // Five made here, and the account's two starters.
  await expect(page.getByTestId("streams-total")).toHaveText("Total: 7 streams");
});

test("the wizard shows the server's error under the field and refuses bad IPs", async ({ page }) => {
  await signUp(page, newEmail("errors"));
  await page.goto("/streams/new?type=sms_marketing");

  await page.getByLabel("Enable IP ACL").check();
  await page.getByLabel("Add IP").fill("10.0.0.300");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByText("is not an IPv4 or IPv6 address")).toBeVisible();
  await page.getByRole("button", { name: "Save & Next" }).click();

  await expect(page.getByText("Enter a name for the stream.")).toBeVisible();
  await expect(page.getByLabel("Stream API name")).toHaveAttribute("aria-invalid", "true");
});

test("a draft is saved, listed with fewer actions, and resumes where it was left", async ({ page }) => {
  await signUp(page, newEmail("draft"));
  await page.goto("/streams/new?type=sms_two_way");
  await page.getByLabel("Stream API name").fill("Half-made");
  await page.getByRole("button", { name: "Save & Next" }).click();
  await page.getByLabel("Webhook URL").fill("https://hooks.example.com/half");
  await page.getByRole("button", { name: "Save as draft" }).click();

  await expect(page).toHaveURL(/\/streams$/);
  await expect(page.getByTestId("toast")).toContainText("Saved as a draft");
  await expect(row(page, "Half-made")).toContainText("Draft");
  await openActions(page, "Half-made");
  await expect(page.getByRole("menuitem")).toHaveText(["Edit stream", "Delete"]);
  await page.getByRole("menuitem", { name: "Edit stream" }).click();

  // It reopens at the webhook step, with what was saved there.
  await expect(page.getByLabel("Webhook URL")).toHaveValue("https://hooks.example.com/half");
  await page.getByRole("button", { name: "Save & Next" }).click();
  await expect(page.getByTestId("summary")).toContainText("Half-made");
  await page.getByRole("button", { name: "Create Stream" }).click();
  await page.getByRole("button", { name: "Done" }).click();
  await expect(row(page, "Half-made")).toContainText("Ready");
});

test("every action of the menu works on a stream", async ({ page }) => {
  await signUp(page, newEmail("actions"));
  await createStreams(page, 1, () => "ops");
  await page.goto("/streams");

  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Show token" }).click();
  const shown = await page.getByLabel("API token").inputValue();
  expect(shown).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await page.getByRole("button", { name: "Done" }).click();

  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Reset token" }).click();
  await page.getByRole("button", { name: "Reset token" }).click();
  await expect(page.getByTestId("toast")).toContainText("Token reset");
  await expect(page.getByLabel("API token")).not.toHaveValue(shown);
  await page.getByRole("button", { name: "Done" }).click();

  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Disable" }).click();
  await expect(row(page, "Bulk 01")).toContainText("Disabled");
  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Enable" }).click();
  await expect(row(page, "Bulk 01")).toContainText("Ready");

  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Restrict" }).click();
  const restrict = page.getByRole("dialog", { name: "Restrict Bulk 01?" });
  await restrict.getByRole("button", { name: "Restrict stream" }).click();
  await expect(restrict.getByText("Add at least one test recipient")).toBeVisible();
  await restrict.getByLabel("Add a test recipient").fill("0770 0900");
  await restrict.getByRole("button", { name: "Add", exact: true }).click();
  await expect(restrict.getByText("is not a phone number in international format")).toBeVisible();
  await restrict.getByLabel("Add a test recipient").fill("+44 7700 900123");
  await restrict.getByRole("button", { name: "Add", exact: true }).click();
  await expect(restrict.getByRole("list", { name: "Test recipients" })).toContainText("+447700900123");
  await restrict.getByRole("button", { name: "Restrict stream" }).click();
  await expect(row(page, "Bulk 01")).toContainText("Restricted");
  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Test recipients" }).click();
  const recipients = page.getByRole("dialog", { name: "Test recipients of Bulk 01" });
  await expect(recipients.getByRole("list", { name: "Test recipients" })).toContainText("+447700900123");
  await recipients.getByRole("button", { name: "Done" }).click();
  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Unrestrict" }).click();
  await expect(row(page, "Bulk 01")).not.toContainText("Restricted");

  await openActions(page, "Bulk 01");
  await page.getByRole("menuitem", { name: "Edit stream" }).click();
  await page.getByLabel("Stream API name").fill("Renamed");
  await page.getByRole("button", { name: "Save & Next" }).click();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(row(page, "Renamed")).toBeVisible();

  await openActions(page, "Renamed");
  await page.getByRole("menuitem", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, "Renamed")).toBeVisible();
  await openActions(page, "Renamed");
  await page.getByRole("menuitem", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Delete stream" }).click();
  await expect(page.getByTestId("toast")).toContainText("Stream deleted");
  await expect(row(page, "Renamed")).toHaveCount(0);
});

test("filters and pagination over 67 streams live in the URL", async ({ page }) => {
  await signUp(page, newEmail("filters"));
  await createStreams(page, 65, (n) => (n % 2 === 0 ? "even" : "odd"));
  await page.goto("/streams");

  // 65 made here and the account's two starters.
  await expect(page.getByTestId("streams-total")).toHaveText("Total: 67 streams");
  await expect(page.getByTestId("stream-row")).toHaveCount(20);
  await expect(page.getByTestId("page-indicator")).toHaveText("Page 1 of 4");
  await page.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.getByTestId("page-indicator")).toHaveText("Page 2 of 4");

  await page.getByLabel("Per page").selectOption("50");
  await page.getByLabel("Tag").selectOption("even");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/tag=even&per_page=50$/);
  await expect(page.getByTestId("streams-total")).toHaveText("Total: 32 streams");
  await expect(page.getByTestId("stream-row")).toHaveCount(32);

  await page.getByLabel("Name").fill("Bulk 1");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("streams-total")).toHaveText("Total: 5 streams");

  await page.goto("/streams?status=disabled");
  await expect(page.getByTestId("empty-state")).toContainText("No streams match");
  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page.getByTestId("streams-total")).toHaveText("Total: 67 streams");
});

test("sender IDs are added, refused when invalid, and deleted", async ({ page }) => {
  await signUp(page, newEmail("senders"));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sender IDs" }).click();

  await page.getByLabel("New sender ID").fill("Way too long name");
  await page.getByRole("button", { name: "Add sender ID" }).click();
  await expect(page.getByText("A sender ID is 1 to 11 letters")).toBeVisible();
  await page.getByLabel("New sender ID").fill("AcmeShop");
  await page.getByRole("button", { name: "Add sender ID" }).click();
  await expect(page.getByRole("list", { name: "Sender IDs" })).toContainText("AcmeShop");

  await page.goto("/streams/new?type=sms_marketing");
  await page.getByLabel("Default sender").selectOption("AcmeShop");
  await page.getByLabel("Stream API name").fill("With sender");
  await page.getByRole("button", { name: "Save & Next" }).click();
  await expect(page.getByTestId("summary")).toContainText("AcmeShop");

  await page.goto("/sender-ids");
  await page.getByLabel("Delete AcmeShop").click();
  await page.getByRole("button", { name: "Delete sender ID" }).click();
  await expect(page.getByTestId("empty-state")).toContainText("No sender IDs yet");
});
