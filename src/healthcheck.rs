//! `sms-tasks healthcheck`: one `GET /health/ready` against a running service, so that the
//! container image needs no curl.
//!
//! The request is a minimal HTTP/1.1 GET over a tokio `TcpStream`, written here on purpose: the
//! service has no HTTP client crate (see Cargo.toml), and a readiness probe needs only a
//! status line from our own server over plain HTTP.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The readiness URL of a service listening on `listen` (`server.listen`): an unspecified
/// address (`0.0.0.0`, `::`) is reached on the loopback address of its family.
pub fn ready_url(listen: SocketAddr) -> String {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}/health/ready")
}

/// GETs `url` (plain `http://`) and succeeds when the answer is 200, within `timeout` for the
/// whole exchange.
pub async fn check(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if parsed.scheme() != "http" {
        bail!("{url}: only http:// URLs are supported");
    }
    let host = parsed.host_str().context("the URL has no host")?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let target = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let exchange = async {
        // `host_str` keeps an IPv6 address in brackets; connect wants it without.
        let connect_host = host.trim_start_matches('[').trim_end_matches(']');
        let mut stream = TcpStream::connect((connect_host, port)).await.context("cannot connect")?;
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: sms-tasks-healthcheck\r\n\
             Accept: */*\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.context("cannot send the request")?;
        // Only the status line matters; read until it is complete (or the answer ends).
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
            let n = stream.read(&mut buf).await.context("cannot read the answer")?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        status_code(&head)
    };
    let status = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {} s", timeout.as_secs_f64()))??;
    if status != 200 {
        bail!("answered {status}, not 200");
    }
    Ok(())
}

/// The status code of an HTTP/1.x answer's status line (`HTTP/1.1 200 OK`).
fn status_code(head: &[u8]) -> anyhow::Result<u16> {
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    match (parts.next(), parts.next().and_then(|code| code.parse().ok())) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => Ok(code),
        _ => bail!("not an HTTP answer: {line:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listen_address_is_probed_on_loopback() {
        assert_eq!(ready_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080/health/ready");
        assert_eq!(ready_url("[::]:8080".parse().unwrap()), "http://[::1]:8080/health/ready");
        assert_eq!(ready_url("10.0.0.5:81".parse().unwrap()), "http://10.0.0.5:81/health/ready");
    }

    #[test]
    fn the_status_line_gives_the_code() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n").unwrap(), 200);
        assert_eq!(status_code(b"HTTP/1.1 503 Service Unavailable\r\n").unwrap(), 503);
        assert!(status_code(b"SSH-2.0-OpenSSH_9.2\r\n").is_err());
        assert!(status_code(b"").is_err());
    }
}
