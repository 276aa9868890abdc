//! Every connection the kit accepts, for gRPC and for `/metrics`, has `TCP_NODELAY` (so a
//! response is not held back until the client's delayed ACK) and gRPC's has TCP keepalive. The
//! accepted sockets are found among this process's own descriptors and asked directly.

#![cfg(target_os = "linux")]

use std::net::SocketAddr;
use std::os::fd::RawFd;

use dti_service_kit::ServiceKit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// The local and peer address of socket `fd`, if it is a connected IPv4 TCP socket.
fn connected_ipv4(fd: RawFd) -> Option<(SocketAddr, SocketAddr)> {
    fn read(fd: RawFd, peer: bool) -> Option<SocketAddr> {
        // SAFETY: sockaddr_in is plain data; the kernel writes at most `len` bytes into it.
        let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let pointer = (&mut addr as *mut libc::sockaddr_in).cast::<libc::sockaddr>();
        // SAFETY: `pointer` and `len` describe `addr`, which outlives the call.
        let status = unsafe {
            if peer {
                libc::getpeername(fd, pointer, &mut len)
            } else {
                libc::getsockname(fd, pointer, &mut len)
            }
        };
        if status != 0 || i32::from(addr.sin_family) != libc::AF_INET {
            return None;
        }
        let ip = std::net::Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr));
        Some(SocketAddr::from((ip, u16::from_be(addr.sin_port))))
    }
    Some((read(fd, false)?, read(fd, true)?))
}

/// An integer socket option of `fd`.
fn option(fd: RawFd, level: libc::c_int, name: libc::c_int) -> libc::c_int {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` describe a c_int that outlives the call.
    let status = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(status, 0, "getsockopt({level}, {name}) on fd {fd}");
    value
}

/// The descriptors of this process's sockets that were accepted on `server` (local address
/// `server`, a peer connected).
fn accepted_on(server: SocketAddr) -> Vec<RawFd> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<RawFd>().ok())
        .filter(|&fd| connected_ipv4(fd).is_some_and(|(local, _)| local == server))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_grpc_and_metrics_connections_have_nodelay_and_keepalive() -> anyhow::Result<()> {
    let config = dti_testkit::loopback_config(dti_config::NoServiceSettings::default());
    let kit = ServiceKit::builder("socket-options-test", &config)
        .build()
        .await?;
    let grpc_addr = kit.grpc_addr()?;
    let metrics_addr = kit.metrics_addr().expect("metrics enabled");
    let shutdown = kit.shutdown_token();
    let server = tokio::spawn(kit.serve());

    // One gRPC connection, kept open by the channel.
    let channel = Channel::from_shared(format!("http://{grpc_addr}"))?
        .connect()
        .await?;
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    // One scrape on a connection that stays open (HTTP/1.1 keep-alive).
    let mut scraper = tokio::net::TcpStream::connect(metrics_addr).await?;
    scraper
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    let mut first = [0_u8; 12];
    scraper.read_exact(&mut first).await?;
    assert_eq!(&first, b"HTTP/1.1 200");

    let grpc = accepted_on(grpc_addr);
    assert_eq!(grpc.len(), 1, "accepted gRPC sockets: {grpc:?}");
    for fd in grpc {
        assert_eq!(option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY), 1);
        assert_eq!(option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
    }
    let metrics = accepted_on(metrics_addr);
    assert_eq!(metrics.len(), 1, "accepted metrics sockets: {metrics:?}");
    for fd in metrics {
        assert_eq!(option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY), 1);
    }

    drop(scraper);
    drop(channel);
    shutdown.cancel();
    server.await??;
    Ok(())
}
