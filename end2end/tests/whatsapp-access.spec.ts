import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { PASSWORD, expect, hydrated, newEmail, test } from "./helpers";

const sluice = path.resolve(__dirname, "../../target/debug/sluice");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A second server whose operator keeps WhatsApp behind Request Access. */
async function requestOnlyServer() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "sluice-request-"));
  const port = await freePort();
  const env = {
    ...process.env,
    LEPTOS_SITE_ROOT: path.resolve(__dirname, "../../target/site"),
    SLUICE_FEATURES__WHATSAPP: "request",
    SLUICE_HTTP__SECURE_COOKIE: "false",
    SLUICE_LIMITS__SIGN_UPS_PER_HOUR: "10000",
  };
  const child: ChildProcess = spawn(sluice, ["--addr", `127.0.0.1:${port}`, "--data-dir", dataDir, "--log-level", "warn"], {
    env,
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (tries > 100) throw new Error("the second server did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    base,
    cli: (...args: string[]) => execFileSync(sluice, [...args, "--data-dir", dataDir], { env }).toString(),
    stop: () => {
      child.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

test("WhatsApp behind Request Access: the account asks, the operator grants, the picker opens it", async ({ page }) => {
  const server = await requestOnlyServer();
  try {
    const email = newEmail("whatsapp-access");
    await page.goto(`${server.base}/sign-up`);
    await hydrated(page);
    await page.getByLabel("Company or team").fill("Acme Ltd");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/streams$/);
    await hydrated(page);

    await page.getByRole("button", { name: "Create Stream API" }).click();
    const picker = page.getByRole("dialog", { name: "Choose a stream type" });
    await expect(picker.getByRole("link", { name: /Two-way/ })).toBeVisible();
    await expect(picker.getByRole("link", { name: /WhatsApp/ })).toHaveCount(0);
    await picker.getByRole("button", { name: "Request Access" }).click();
    await expect(page.getByTestId("toast")).toContainText("Access request sent");
    await expect(picker.getByTestId("whatsapp-access")).toContainText("Access requested");

    expect(server.cli("whatsapp", "requests")).toContain(`${email} (Acme Ltd`);
    server.cli("whatsapp", "grant", "--email", email);

    await page.reload();
    await hydrated(page);
    await page.getByRole("button", { name: "Create Stream API" }).click();
    await page.getByRole("dialog", { name: "Choose a stream type" }).getByRole("link", { name: /WhatsApp/ }).click();
    await expect(page).toHaveURL(/\/streams\/new\?type=whatsapp/);
  } finally {
    server.stop();
  }
});
