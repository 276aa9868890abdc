//! `TCP_NODELAY` on the pool's PostgreSQL connections.
//!
//! sqlx 0.9.0 opens its TCP connections without `TCP_NODELAY` (upstream issue
//! launchbadge/sqlx#4335, fixed by #4336, not in a release yet). A statement whose message
//! leaves the client in more than one segment then waits for the server's delayed ACK, 40 ms on
//! Linux: writing one unit's score row (about 18 kB of explanations) took 45 ms over TCP and
//! 1.5 ms over a Unix socket. Until a release sets the option itself, each new connection finds
//! its own socket among the process's descriptors — the TCP socket whose local port is the
//! client port the server reports (`inet_client_port()`) — and sets it. A connection over a
//! Unix socket has no such port and needs nothing. Remove this module once sqlx sets
//! `TCP_NODELAY`.

use sqlx::PgConnection;

/// Sets `TCP_NODELAY` on the socket of `connection` when it is a TCP connection of this
/// process. Failing to find or set it only costs latency, so that is logged, not returned.
pub(crate) async fn set_on(connection: &mut PgConnection) -> Result<(), sqlx::Error> {
    let client_port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(&mut *connection)
        .await?;
    let Some(port) = client_port.and_then(|port| u16::try_from(port).ok()) else {
        return Ok(());
    };
    match with_socket_on_local_port(port, |socket| socket.set_tcp_nodelay(true)) {
        Ok(None) => tracing::debug!(port, "no socket of this process has the client port"),
        Ok(Some(())) => {}
        Err(error) => tracing::debug!(port, %error, "cannot set TCP_NODELAY"),
    }
    Ok(())
}

/// Calls `f` with this process's connected TCP socket whose local port is `port` (the client
/// side of a connection to that port's peer) and returns its answer; `None` when there is no
/// such socket, or elsewhere than Linux, where the descriptors are not listed. The pool uses it
/// to set `TCP_NODELAY`; the tests, to read it back.
#[cfg(target_os = "linux")]
pub fn with_socket_on_local_port<T>(
    port: u16,
    f: impl FnOnce(socket2::SockRef<'_>) -> std::io::Result<T>,
) -> std::io::Result<Option<T>> {
    use std::os::fd::{BorrowedFd, RawFd};

    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<RawFd>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor was open and a socket when listed just now; it is borrowed
        // for a few socket calls and never closed here. Were it closed and reused meanwhile,
        // the calls fail or touch a harmless option of another socket.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let local_port = socket
            .local_addr()
            .ok()
            .and_then(|address| address.as_socket())
            .map(|address| address.port());
        let is_connected_tcp = socket
            .r#type()
            .is_ok_and(|kind| kind == socket2::Type::STREAM)
            && socket.peer_addr().is_ok();
        if local_port == Some(port) && is_connected_tcp {
            return f(socket).map(Some);
        }
    }
    Ok(None)
}

/// Elsewhere than Linux the descriptors are not listed; connections keep sqlx's defaults.
#[cfg(not(target_os = "linux"))]
pub fn with_socket_on_local_port<T>(
    _port: u16,
    _f: impl FnOnce(socket2::SockRef<'_>) -> std::io::Result<T>,
) -> std::io::Result<Option<T>> {
    Ok(None)
}
