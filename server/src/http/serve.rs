//! Serving connections with deadlines: a client has [`HttpConfig::header_timeout_ms`] to send
//! a request's headers, so clients that trickle them cannot hold connections (and their
//! memory) for ever. On `stop`, connections finish the request they are serving and close.

use std::time::Duration;

use axum::{Router, body::Body, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;

use super::HttpConfig;

/// Serves `router` on `listener` until `stop`, then waits for open connections to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.header_timeout_ms.max(1)));
    // Each connection holds a receiver: the sender sees them all gone once every one closed.
    let (stopping, connections) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        let builder = builder.clone();
        let mut stopping = connections.clone();
        tokio::spawn(async move {
            let service = TowerToHyperService::new(service);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    changed = stopping.changed() => {
                        connection.as_mut().graceful_shutdown();
                        if changed.is_err() {
                            let _ = connection.as_mut().await;
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    drop(connections);
    let _ = stopping.send(true);
    stopping.closed().await;
    Ok(())
}
