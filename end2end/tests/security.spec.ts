import http from "node:http";
import type { AddressInfo } from "node:net";

import { createStream, newEmail, signUp, test, expect } from "./helpers";

/**
 * Another site on this machine: `/form` posts a forged "create stream" request to the console
 * (text/plain carrying JSON, as an HTML form can), `/frame` shows the console in an iframe.
 * Another port of 127.0.0.1 is the same site, so the browser would send a SameSite=Lax cookie.
 */
async function otherSite(console: string) {
  const forged = JSON.stringify({
    kind: "sms_marketing",
    input: {
      name: "Forged stream",
      description: "",
      demo: true,
      ip_acl_enabled: false,
      allowed_ips: [],
      tags: [],
      default_sender: null,
    },
    draft: false,
  });
  // A text/plain form sends `name=value`: the "=" lands inside a string of an extra field.
  const [name, value] = [`${forged.slice(0, -1)},"padding":"`, '"}'];
  const pages: Record<string, string> = {
    "/form": `<form method="post" action="${console}/api/streams/create" enctype="text/plain">
        <input type="hidden" name='${name.replace(/'/g, "&#39;")}' value='${value}'>
        <button>Win a prize</button></form>`,
    "/frame": `<iframe title="console" src="${console}/sign-in" width="600" height="400"></iframe>`,
  };
  const server = http.createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end(`<!doctype html><title>Other site</title>${pages[request.url ?? ""] ?? ""}`);
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

test("a page on another site cannot act with the console's session", async ({ page, baseURL, playwright }) => {
  await signUp(page, newEmail("csrf"));
  const site = await otherSite(baseURL!);
  // The check afterwards goes through a request context of its own, with the same session:
  // the two tabs share one renderer process, which the tab's navigation may take down.
  const api = await playwright.request.newContext({ baseURL, storageState: await page.context().storageState() });
  try {
    // A plain tab of the same browser: it carries the console's cookie.
    const other = await page.context().newPage();
    await other.goto(`${site.url}/form`);
    const answer = other.waitForResponse((response) => response.url().endsWith("/api/streams/create"));
    await other.getByRole("button", { name: "Win a prize" }).click();
    expect((await answer).status()).toBe(403);
    const listed = await api.post("/api/streams/list", {
      data: { filter: { name: "", status: null, tag: "", page: 1, per_page: 20 } },
    });
    expect(listed.ok()).toBeTruthy();
    // Only the account's two starters: the other site's stream was not made.
    const names = (await listed.json()).streams.map((stream: { name: string }) => stream.name);
    expect(names).toEqual(["Default Marketing", "Default Transactional"]);
  } finally {
    await api.dispose();
    site.close();
  }
});

test("the console refuses to be framed by another site", async ({ page, baseURL }) => {
  const site = await otherSite(baseURL!);
  try {
    const other = await page.context().newPage();
    const refused = other.waitForEvent("console", (message) => message.text().includes("frame-ancestors"));
    await other.goto(`${site.url}/frame`);
    await refused;
    await expect(other.frameLocator("iframe[title=console]").getByLabel("Email")).toHaveCount(0);
    // The same page on its own site loads.
    await other.goto("/sign-in");
    await expect(other.getByLabel("Email")).toBeVisible();
  } finally {
    site.close();
  }
});

test("a stream's destination countries are set in its details and hold for the API", async ({ page }) => {
  await signUp(page, newEmail("countries"));
  const id = await createStream(page, "sms_marketing", "Local only");
  await page.goto(`/streams?stream=${id}&tab=info`);
  const panel = page.getByTestId("side-panel");
  await expect(panel.getByTestId("stream-facts")).toContainText("Every country");
  const countries = panel.getByLabel("Destination countries");
  await countries.fill("UK");
  await panel.getByRole("button", { name: "Save details" }).click();
  await expect(panel.getByText("`UK` is not a calling code")).toBeVisible();
  await countries.fill("+44, 1");
  await panel.getByRole("button", { name: "Save details" }).click();
  await expect(page.getByTestId("toast")).toContainText("Stream details saved.");
  await expect(panel.getByTestId("stream-facts")).toContainText("+44, +1");

  const token = await (await page.request.post("/api/streams/token", { data: { id } })).json();
  const sent = await page.request.post("/simple_send/", {
    headers: { Authorization: token },
    data: {
      messages: [
        { internal_id: "uk", sender: "Acme", recipient_phone: "+447700900123", message_content: "Hi" },
        { internal_id: "fr", sender: "Acme", recipient_phone: "+33612345678", message_content: "Hi" },
      ],
    },
  });
  const answer = await sent.json();
  expect(answer.messages[0].status).toBe("queued");
  expect(answer.messages[1].error.code).toBe("country_not_allowed");
});
