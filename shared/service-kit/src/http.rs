//! The public HTTP/1.1 listener of the services that have one (the gateway, the results site):
//! its TLS certificate loaded and its address bound at start-up, each failure naming its step,
//! then served as a task of the kit until shutdown ([`ServiceKit::serve_http`]).

use std::net::SocketAddr;

use dti_config::ListenerTlsConfig;

use crate::tls::{self, Protocol};
use crate::{ServiceKit, StartError};

impl ServiceKit {
    /// Serves `router` on `addr` over HTTP/1.1 (TLS from `service.http_tls` when configured) as
    /// the kit's `http` task, logging `listening` with the bound address; returns that address
    /// (port 0 becomes the port the system chose).
    pub async fn serve_http(
        &self,
        addr: SocketAddr,
        tls_settings: &ListenerTlsConfig,
        router: axum::Router,
        listening: &'static str,
    ) -> Result<SocketAddr, StartError> {
        let tls = tls::server_config("service.http_tls", tls_settings, Protocol::Http1).map_err(
            StartError::step("loading the HTTP listener's TLS certificate"),
        )?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(StartError::step("binding the HTTP listener"))?;
        let http_addr = listener
            .local_addr()
            .map_err(StartError::step("reading the HTTP listener's address"))?;
        self.spawn_task("http", move |shutdown| async move {
            tracing::info!(addr = %http_addr, tls = tls.is_some(), "{listening}");
            tls::serve_http(listener, router, tls, shutdown).await
        });
        Ok(http_addr)
    }
}
