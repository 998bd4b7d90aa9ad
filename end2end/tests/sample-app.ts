/**
 * A tiny product that signs its users in with a code texted through Sluice: the customer's app
 * the README's recipe tests. It calls Sluice exactly as any product would, over HTTP with an
 * OTP stream's token (`/otp/auth`, `/otp/verify`, `/status/`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SampleApp {
  url: string;
  close(): Promise<void>;
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<title>${escape(title)}</title></head><body><main>${body}</main></body></html>`;
}

async function form(request: IncomingMessage): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of request) body += chunk;
  return new URLSearchParams(body);
}

const signInForm = (error = "") =>
  page(
    "Sign in",
    `<h1>Sign in</h1>${error && `<p role="alert">${escape(error)}</p>`}
     <form method="post" action="/sign-in">
       <label>Phone <input name="phone" type="tel" required></label>
       <button>Text me a code</button>
     </form>`,
  );

/** What the customer reads about the text carrying their code. */
function delivery(status: string): { line: string; waiting: boolean } {
  switch (status) {
    case "queued":
    case "sent":
      return { line: "Sending your code…", waiting: true };
    case "delivered":
      return { line: "Code delivered.", waiting: false };
    case "undelivered":
    case "rejected":
    case "sent_failed":
    case "no_routes":
    case "expired":
      return { line: "We could not reach your phone. Check the number and try again.", waiting: false };
    default:
      return { line: `Could not check the delivery (${status}).`, waiting: false };
  }
}

/** Serves the app on a free port of 127.0.0.1, sending through `sluiceUrl` with `token`. */
export async function startSampleApp(sluiceUrl: string, token: string): Promise<SampleApp> {
  const sluice = async (method: string, path: string, body?: object) => {
    const answer = await fetch(new URL(path, sluiceUrl), {
      method,
      headers: { Authorization: token, "Content-Type": "application/json" },
      body: body && JSON.stringify(body),
    });
    return answer.json();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://app");
    const send = (html: string, status = 200) =>
      response.writeHead(status, { "Content-Type": "text/html; charset=utf-8" }).end(html);
    if (request.method === "GET" && url.pathname === "/sign-in") return send(signInForm());
    if (request.method === "POST" && url.pathname === "/sign-in") {
      const phone = (await form(request)).get("phone") ?? "";
      const sent = await sluice("POST", "/otp/auth", { recipient_phone: phone });
      if (!sent.status) return send(signInForm(sent.error?.message ?? "Could not send a code."), 422);
      const next = new URLSearchParams({ otp: sent.otp_id, message: sent.message.message_uuid });
      return response.writeHead(303, { Location: `/verify?${next}` }).end();
    }
    if (url.pathname === "/verify") {
      const otp = url.searchParams.get("otp") ?? "";
      const message = url.searchParams.get("message") ?? "";
      let error = "";
      if (request.method === "POST") {
        const code = (await form(request)).get("code") ?? "";
        const checked = await sluice("POST", "/otp/verify", { otp_id: otp, code });
        if (checked.status) return send(page("Welcome", "<h1>Welcome</h1><p>You are signed in.</p>"));
        error = "That code is not right.";
      }
      const tracked = await sluice("GET", `/status/?message_uuids=${encodeURIComponent(message)}`);
      const { line, waiting } = delivery(tracked.messages?.[0]?.status ?? "unknown");
      return send(
        page(
          "Enter your code",
          `<h1>Enter your code</h1>${error && `<p role="alert">${escape(error)}</p>`}
           <p data-testid="delivery">${escape(line)}</p>
           <form method="post">
             <label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
             <button>Sign in</button>
           </form>`,
          waiting ? 1 : undefined,
        ),
        error ? 422 : 200,
      );
    }
    send(page("Not found", "<h1>Not found</h1>"), 404);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
