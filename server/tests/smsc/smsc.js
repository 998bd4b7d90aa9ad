// An SMSC for the SMPP channel's tests, built on the npm `smpp` package in server mode. It
// prints one JSON line per event (the first says which port it listens on) and behaves as
// the message text asks: "throttle me" is refused with ESME_RTHROTTLED once, "drop me" closes
// the session once without answering, "refuse me" is refused for good, "fail" is reported
// UNDELIV, "reply please" and "long reply please" are answered with a reply (the long one in
// two UDH parts). Every accepted part that asks for one gets a delivery receipt.
const smpp = require("smpp");

const systemId = process.env.SMSC_SYSTEM_ID || "sluice";
const password = process.env.SMSC_PASSWORD || "secret1";
const log = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const once = new Set();
let submitted = 0;

function firstTime(what) {
  if (once.has(what)) return false;
  once.add(what);
  return true;
}

const server = smpp.createServer({ debug: false }, (session) => {
  const bind = (pdu) => {
    session.pause();
    const ok = pdu.system_id === systemId && pdu.password === password;
    log({ event: "bind", command: pdu.command, system_id: pdu.system_id, ok });
    session.send(pdu.response({ command_status: ok ? smpp.ESME_ROK : smpp.ESME_RBINDFAIL }));
    session.resume();
  };
  session.on("bind_transceiver", bind);
  session.on("bind_transmitter", bind);
  session.on("enquire_link", (pdu) => session.send(pdu.response()));
  session.on("unbind", (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on("error", () => {});
  session.on("submit_sm", (pdu) => {
    submitted += 1;
    const body = pdu.short_message;
    const text = typeof body.message === "string" ? body.message : Buffer.from(body.message).toString("hex");
    const udh = (body.udh || []).map((element) => Buffer.from(element).toString("hex"));
    log({
      event: "submit_sm",
      n: submitted,
      at: Date.now(),
      source_addr: pdu.source_addr,
      source_addr_ton: pdu.source_addr_ton,
      destination_addr: pdu.destination_addr,
      dest_addr_ton: pdu.dest_addr_ton,
      data_coding: pdu.data_coding,
      esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      text,
      udh,
    });
    if (text.includes("throttle me") && firstTime("throttle")) {
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    if (text.includes("drop me") && firstTime("drop")) {
      session.close();
      return;
    }
    if (text.includes("refuse me")) {
      session.send(pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
      return;
    }
    const id = `smsc-${submitted}`;
    session.send(pdu.response({ message_id: id }));
    setTimeout(() => {
      const stat = text.includes("fail") ? "UNDELIV" : "DELIVRD";
      if (pdu.registered_delivery & 1) {
        session.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
          short_message: `id:${id} sub:001 dlvrd:001 submit date:2611231200 done date:2611231201 stat:${stat} err:000 text:`,
        });
      }
      if (text.includes("long reply please")) {
        for (const [part, words] of [[2, "and the end."], [1, "This is the start, "]]) {
          session.deliver_sm({
            source_addr: pdu.destination_addr,
            destination_addr: pdu.source_addr,
            short_message: { udh: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, part]), message: words },
          });
        }
      } else if (text.includes("reply please")) {
        session.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          short_message: "Sure, see you then!",
        });
      }
    }, 50);
  });
});

server.listen(0, "127.0.0.1", () => log({ event: "listening", port: server.address().port }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
