//! The SMPP channel: one bound session per connection, opened on first use (and at start-up
//! for connections that already exist), kept alive with enquire_link and opened again with
//! backoff when it drops. Messages go as submit_sm in GSM-7 or UCS-2, long ones as UDH
//! concatenated parts; deliver_sm brings delivery receipts (which move the message) and
//! replies (stored on the Two-way stream the connection serves).

use std::{
    collections::HashMap,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt;
use rusmpp::{
    CommandStatus, Pdu,
    extra::{concatenation::SubmitSmMultipartExt, encoding::ucs2::Ucs2},
    pdus::{BindTransceiver, BindTransmitter, DeliverSm, DeliverSmResp, SubmitSm},
    types::{COctetString, OctetString},
    values::{Npi, RegisteredDelivery, Ton},
};
use rusmppc::{Client, ConnectionBuilder, Event};
use tokio::time::Instant;

use super::{
    demo::Transient,
    upstream::{Refused, Sent},
};
use crate::engine::{
    self as messages, Channel, Claimed, Engine, Inbound, Outcome, Part,
    reports::{self, Reported, Scope},
};
use app::{
    connections::{BindMode, Health, SmppSettings, store as connections},
    egress::Egress,
    messages::{MessageStatus, decode_gsm7},
};

/// How long the SMSC has to answer a command.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle session proves it is alive.
const ENQUIRE_LINK: Duration = Duration::from_secs(30);
/// The first and the longest wait before opening a failed session again.
const RECONNECT_MIN: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(60);
/// How long a TCP connection to an SMSC may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to an SMSC, plain or over TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

/// A connection's session, or why there is none and when to try again.
#[derive(Debug, Default)]
struct Session {
    client: Option<Client>,
    /// The settings the session was opened with; changed settings open a new one.
    opened_with: Option<(SmppSettings, Option<String>)>,
    retry_at: Option<Instant>,
    backoff: Duration,
    last_error: String,
    /// When the next submit_sm may go, under the connection's throughput limit.
    next_slot: Option<Instant>,
    /// Concatenation references, one per long message.
    reference: u16,
}

/// Every SMPP connection's session in this process.
#[derive(Debug, Clone)]
pub struct Sessions {
    engine: Engine,
    egress: Egress,
    wake_webhooks: Arc<tokio::sync::Notify>,
    sessions: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<Session>>>>>,
}

impl Sessions {
    pub fn new(engine: Engine, egress: Egress, wake_webhooks: Arc<tokio::sync::Notify>) -> Self {
        Self {
            engine,
            egress,
            wake_webhooks,
            sessions: Arc::default(),
        }
    }

    fn session(&self, connection_id: &str) -> Arc<tokio::sync::Mutex<Session>> {
        let mut sessions = crate::lock(&self.sessions);
        sessions
            .entry(connection_id.to_string())
            .or_default()
            .clone()
    }

    /// Opens the session of a connection now, so that receipts and replies flow before the
    /// first send.
    pub async fn open(&self, connection_id: &str, settings: &SmppSettings, password: Option<&str>) {
        let session = self.session(connection_id);
        let mut session = session.lock().await;
        if let Err(error) = self
            .client(&mut session, connection_id, settings, password)
            .await
        {
            tracing::warn!(connection = connection_id, error = %error.message, "SMPP session not opened");
        }
    }

    /// How many sessions are bound, and how many are not (waiting to open again); a session
    /// busy sending counts as bound.
    pub fn counts(&self) -> (i64, i64) {
        let sessions = crate::lock(&self.sessions);
        let bound = sessions
            .values()
            .filter(|session| {
                session.try_lock().map_or(true, |session| {
                    session.client.as_ref().is_some_and(Client::is_active)
                })
            })
            .count() as i64;
        (bound, sessions.len() as i64 - bound)
    }

    /// Closes the session of a connection, if one is open: another instance holds it now.
    pub async fn close(&self, connection_id: &str) {
        let session = crate::lock(&self.sessions).remove(connection_id);
        if let Some(session) = session
            && let Some(client) = session.lock().await.client.take()
        {
            let _ = client.close().await;
        }
    }

    /// Submits one message (in as many parts as it takes).
    pub async fn send(
        &self,
        connection_id: &str,
        settings: &SmppSettings,
        password: Option<&str>,
        message: &Claimed,
    ) -> Sent {
        let session = self.session(connection_id);
        let mut session = session.lock().await;
        // The parts of a long message share a reference the handset puts them together by.
        session.reference = session.reference.wrapping_add(1);
        let parts = match submits(message, session.reference) {
            Ok(parts) => parts,
            Err(refused) => return Sent::Refused(refused),
        };
        let client = match self
            .client(&mut session, connection_id, settings, password)
            .await
        {
            Ok(client) => client,
            Err(transient) => return Sent::Transient(transient),
        };
        let mut first_id = None;
        for part in parts {
            pace(&mut session, settings.max_rate).await;
            match client.submit_sm(part).await {
                Ok(response) => {
                    let id = text(response.message_id().as_ref());
                    first_id.get_or_insert(id);
                }
                Err(error) => {
                    let outcome = classify(&error);
                    if matches!(outcome, Sent::Transient(_)) && !client.is_active() {
                        session.client = None;
                    }
                    // A part already submitted is not taken back; only the first part
                    // asks for a receipt, and the message keeps its id.
                    return outcome;
                }
            }
        }
        Sent::Accepted(first_id)
    }

    /// The session's bound client, opening (and binding) one when there is none or the
    /// settings changed; while a failed session waits out its backoff, the failure.
    async fn client(
        &self,
        session: &mut Session,
        connection_id: &str,
        settings: &SmppSettings,
        password: Option<&str>,
    ) -> Result<Client, Transient> {
        let wanted = (settings.clone(), password.map(str::to_string));
        if session.opened_with.as_ref() != Some(&wanted) {
            if let Some(old) = session.client.take() {
                let _ = old.close().await;
            }
            session.retry_at = None;
            session.backoff = Duration::ZERO;
        }
        if let Some(client) = session.client.as_ref().filter(|c| c.is_active()) {
            return Ok(client.clone());
        }
        if let Some(at) = session.retry_at
            && Instant::now() < at
        {
            return Err(unreachable(&session.last_error));
        }
        match self.bind(connection_id, settings, password).await {
            Ok(client) => {
                session.client = Some(client.clone());
                session.opened_with = Some(wanted);
                session.retry_at = None;
                session.backoff = Duration::ZERO;
                self.health(connection_id, Health::Up, None).await;
                Ok(client)
            }
            Err(error) => {
                session.opened_with = Some(wanted);
                session.backoff = (session.backoff * 2).clamp(RECONNECT_MIN, RECONNECT_MAX);
                session.retry_at = Some(Instant::now() + session.backoff);
                session.last_error = error.clone();
                self.health(connection_id, Health::Down, Some(&error)).await;
                Err(unreachable(&error))
            }
        }
    }

    async fn bind(
        &self,
        connection_id: &str,
        settings: &SmppSettings,
        password: Option<&str>,
    ) -> Result<Client, String> {
        let stream = self.open_stream(settings).await.map_err(|error| {
            format!(
                "The SMSC at {}:{} could not be reached: {error}.",
                settings.host, settings.port
            )
        })?;
        let (client, events) = ConnectionBuilder::new()
            .enquire_link_interval(ENQUIRE_LINK)
            .response_timeout(RESPONSE_TIMEOUT)
            .connected(stream);
        let system_id = c_string(&settings.system_id);
        let password = c_string(password.unwrap_or_default());
        let system_type = c_string(&settings.system_type);
        let bound = match settings.bind_mode {
            BindMode::Transceiver => client
                .bind_transceiver(
                    BindTransceiver::builder()
                        .system_id(system_id)
                        .password(password)
                        .system_type(system_type)
                        .build(),
                )
                .await
                .map(drop),
            BindMode::Transmitter => client
                .bind_transmitter(
                    BindTransmitter::builder()
                        .system_id(system_id)
                        .password(password)
                        .system_type(system_type)
                        .build(),
                )
                .await
                .map(drop),
        };
        if let Err(error) = bound {
            let _ = client.close().await;
            return Err(format!("The SMSC refused to bind: {}", describe(&error)));
        }
        tokio::spawn(
            self.clone()
                .listen(connection_id.to_string(), client.clone(), events),
        );
        Ok(client)
    }

    /// A connection to the SMSC, over TLS when its settings say so: its host is resolved once
    /// and only addresses the operator allows are connected to, so an SMPP connection cannot
    /// probe the operator's network.
    async fn open_stream(&self, settings: &SmppSettings) -> Result<Box<dyn Io>, String> {
        let addrs = self
            .egress
            .resolve(&settings.host, settings.port)
            .await
            .map_err(|error| error.to_string())?;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&addrs[..]))
            .await
            .map_err(|_| "no answer in time".to_string())?
            .map_err(|error| error.to_string())?;
        if !settings.tls {
            return Ok(Box::new(tcp));
        }
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = tokio_rustls::rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let host = settings.host.trim_start_matches('[').trim_end_matches(']');
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|error| error.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|error| format!("TLS: {error}"))?;
        Ok(Box::new(tls))
    }

    /// Answers the SMSC's deliver_sm until the session ends.
    async fn listen(
        self,
        connection_id: String,
        client: Client,
        mut events: impl futures_util::Stream<Item = Event> + Unpin,
    ) {
        while let Some(event) = events.next().await {
            match event {
                Event::Incoming(command) => {
                    let sequence = command.sequence_number();
                    if let Some(Pdu::DeliverSm(deliver_sm)) = command.pdu() {
                        let answer = match self.delivered(&connection_id, deliver_sm).await {
                            Ok(()) => Ok(()),
                            Err(error) => {
                                tracing::warn!(%error, connection = %connection_id, "storing a deliver_sm failed");
                                Err(())
                            }
                        };
                        // A failure to store is answered with an error, so the SMSC sends it again.
                        let status = match answer {
                            Ok(()) => CommandStatus::EsmeRok,
                            Err(()) => CommandStatus::EsmeRsyserr,
                        };
                        let _ = client
                            .status(status)
                            .deliver_sm_resp(sequence, DeliverSmResp::builder().build())
                            .await;
                    }
                }
                Event::Error(error) => {
                    tracing::warn!(connection = %connection_id, error = %error, "SMPP session error");
                }
            }
        }
        let detail = "The SMSC closed the session; it is opened again on the next message.";
        self.health(&connection_id, Health::Down, Some(detail))
            .await;
    }

    /// A delivery receipt moves its message; anything else is a reply.
    async fn delivered(&self, connection_id: &str, pdu: &DeliverSm) -> Result<(), sqlx::Error> {
        let esm_class = u8::from(pdu.esm_class);
        let bytes: &[u8] = pdu.short_message().as_ref();
        if esm_class & 0x3C == 0x04 {
            let receipt = text(bytes);
            let (Some(id), Some(state)) = (
                receipt_field(&receipt, "id"),
                receipt_field(&receipt, "stat"),
            ) else {
                return Ok(());
            };
            let outcome = match state.to_ascii_uppercase().as_str() {
                "DELIVRD" => Outcome::report(MessageStatus::Delivered, None),
                "UNDELIV" | "REJECTD" | "EXPIRED" | "DELETED" | "UNKNOWN" => Outcome::report(
                    MessageStatus::Undelivered,
                    Some(format!("The SMSC reported the message {state}.")),
                ),
                _ => return Ok(()),
            };
            let reported =
                reports::report(&self.engine, Scope::Connection(connection_id), id, outcome)
                    .await?;
            if reported != Reported::Held {
                self.wake_webhooks.notify_waiters();
            }
            return Ok(());
        }
        let to = text(pdu.destination_addr.as_ref());
        let Some((account_id, stream_id)) =
            connections::inbound_stream(self.engine.db(), connection_id, &to).await?
        else {
            tracing::warn!(
                connection = connection_id,
                "a reply arrived for no Two-way stream"
            );
            return Ok(());
        };
        let from = format!(
            "+{}",
            text(pdu.source_addr.as_ref()).trim_start_matches('+')
        );
        let (udh, body) = split_udh(esm_class, bytes);
        let content = decode(u8::from(pdu.data_coding), body);
        let inbound = Inbound {
            account_id: &account_id,
            stream_id: &stream_id,
            channel: Channel::Smpp,
            from: &from,
            to: Some(&to),
            content: &content,
            provider_id: None,
        };
        match udh.and_then(concatenation) {
            Some((reference, total, number)) => {
                let reference = reference.to_string();
                messages::receive_part(
                    self.engine.db(),
                    inbound,
                    Part {
                        reference: &reference,
                        total,
                        number,
                    },
                )
                .await?;
            }
            None => {
                messages::receive(self.engine.db(), inbound).await?;
            }
        }
        self.wake_webhooks.notify_waiters();
        Ok(())
    }

    async fn health(&self, connection_id: &str, health: Health, detail: Option<&str>) {
        if let Err(error) =
            connections::record_health(self.engine.db(), connection_id, health, detail).await
        {
            tracing::warn!(%error, connection = connection_id, "recording a connection's health failed");
        }
    }
}

/// The submit_sm of a message: one, or UDH-concatenated parts sharing `reference`. GSM-7 when
/// the text fits its alphabet, else UCS-2.
fn submits(message: &Claimed, reference: u16) -> Result<Vec<SubmitSm>, Refused> {
    let refused = |what: &str| {
        Refused::rejected(
            "invalid_message",
            format!("The message cannot go over SMPP: {what}."),
        )
    };
    let sender = message.sender.as_deref().unwrap_or_default();
    let (source_ton, source_npi) = if !sender.is_empty()
        && sender
            .trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        (Ton::International, Npi::Isdn)
    } else {
        (Ton::Alphanumeric, Npi::Unknown)
    };
    let source = COctetString::from_str(sender.trim_start_matches('+'))
        .map_err(|_| refused("the sender is too long"))?;
    let destination = COctetString::from_str(message.recipient.digits())
        .map_err(|_| refused("the recipient is too long"))?;
    SubmitSm::builder()
        .source_addr_ton(source_ton)
        .source_addr_npi(source_npi)
        .source_addr(source)
        .dest_addr_ton(Ton::International)
        .dest_addr_npi(Npi::Isdn)
        .destination_addr(destination)
        .registered_delivery(RegisteredDelivery::request_all())
        .short_message(OctetString::empty())
        .build()
        .multipart(&message.content)
        .reference_u16(reference)
        .gsm7bit_unpacked()
        .fallback(Ucs2::new())
        .build()
        .map_err(|error| refused(&error.to_string()))
        .map(|mut parts| {
            // One receipt per message: the first part's, whose id the message keeps.
            for part in parts.iter_mut().skip(1) {
                part.registered_delivery = RegisteredDelivery::default();
            }
            parts
        })
}

/// Waits for the connection's next submit slot.
async fn pace(session: &mut Session, max_rate: u32) {
    if max_rate == 0 {
        return;
    }
    let now = Instant::now();
    let slot = session.next_slot.map_or(now, |slot| slot.max(now));
    session.next_slot = Some(slot + Duration::from_secs(1) / max_rate);
    tokio::time::sleep_until(slot).await;
}

/// What a failed submit means: the SMSC asks us to slow down or is unreachable (try again
/// later), or it refused the message.
fn classify(error: &rusmppc::error::Error) -> Sent {
    use rusmppc::error::Error;
    if let Error::UnexpectedResponse { response } = error {
        let status = response.status();
        let message = format!("The SMSC answered {status:?}.");
        let busy = matches!(
            status,
            CommandStatus::EsmeRthrottled | CommandStatus::EsmeRmsgqful
        );
        return Sent::refusal(busy, message);
    }
    Sent::Transient(unreachable(&describe(error)))
}

fn unreachable(detail: &str) -> Transient {
    Transient {
        code: "provider_unreachable",
        message: detail.to_string(),
    }
}

fn describe(error: &rusmppc::error::Error) -> String {
    use rusmppc::error::Error;
    match error {
        Error::UnexpectedResponse { response } => format!("it answered {:?}", response.status()),
        Error::ResponseTimeout { .. } => "it did not answer in time".into(),
        other => other.to_string(),
    }
}

/// A bind field; the settings' checks keep each within its size.
fn c_string<const MIN: usize, const MAX: usize>(value: &str) -> COctetString<MIN, MAX> {
    COctetString::from_str(value).unwrap_or_else(|_| COctetString::empty())
}

/// A C string's bytes as text, without its terminator.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\0')
        .to_string()
}

/// A field of a delivery receipt's text (`id:… sub:… stat:DELIVRD …`).
fn receipt_field<'a>(receipt: &'a str, name: &str) -> Option<&'a str> {
    receipt
        .split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix(':'))
        .filter(|value| !value.is_empty())
}

/// The user data header (when esm_class says there is one) and the text after it.
fn split_udh(esm_class: u8, bytes: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match bytes.first() {
        Some(&length) if esm_class & 0x40 != 0 && bytes.len() > usize::from(length) => {
            let end = usize::from(length) + 1;
            (Some(&bytes[1..end]), &bytes[end..])
        }
        _ => (None, bytes),
    }
}

/// The concatenation element of a user data header: (reference, total, number).
fn concatenation(udh: &[u8]) -> Option<(u16, i64, i64)> {
    let mut rest = udh;
    while let [id, length, tail @ ..] = rest {
        let (value, next) = tail.split_at_checked(usize::from(*length))?;
        match (id, value) {
            (0x00, [reference, total, number]) => {
                return Some((u16::from(*reference), i64::from(*total), i64::from(*number)));
            }
            (0x08, [high, low, total, number]) => {
                return Some((
                    u16::from_be_bytes([*high, *low]),
                    i64::from(*total),
                    i64::from(*number),
                ));
            }
            _ => rest = next,
        }
    }
    None
}

/// Text in the SMSC's data_coding: GSM-7 (one septet per byte), Latin-1, or UCS-2.
fn decode(data_coding: u8, bytes: &[u8]) -> String {
    match data_coding & 0x0F {
        0x08 => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        0x01 | 0x03 => bytes.iter().map(|&b| char::from(b)).collect(),
        _ => decode_gsm7(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_and_headers_are_read() {
        let receipt = "id:smsc-7 sub:001 dlvrd:001 submit date:2611231200 done date:2611231201 stat:DELIVRD err:000 text:Hi";
        assert_eq!(receipt_field(receipt, "id"), Some("smsc-7"));
        assert_eq!(receipt_field(receipt, "stat"), Some("DELIVRD"));
        assert_eq!(receipt_field(receipt, "missing"), None);

        let (udh, body) = split_udh(0x40, &[5, 0x00, 3, 42, 2, 1, b'H', b'i']);
        assert_eq!(body, b"Hi");
        assert_eq!(udh.and_then(concatenation), Some((42, 2, 1)));
        let (udh, _) = split_udh(0x40, &[6, 0x08, 4, 1, 2, 3, 3, b'x']);
        assert_eq!(udh.and_then(concatenation), Some((258, 3, 3)));
        assert_eq!(split_udh(0, b"plain"), (None, &b"plain"[..]));

        assert_eq!(decode(8, &[0x04, 0x1F, 0x04, 0x40]), "Пр");
        assert_eq!(decode(0, b"Hello"), "Hello");
    }
}
