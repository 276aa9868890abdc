//! Reading a service's Prometheus `/metrics` in tests: one scrape over plain HTTP/1.1 and the
//! value of one sample by name and labels.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET /metrics` of the endpoint at `addr`: the whole response, headers included.
pub async fn scrape(addr: SocketAddr) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    Ok(body)
}

/// The value of the sample `name` (exactly, with or without labels) whose labels include
/// every one of `labels` (`key="value"`).
pub fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn a_sample_is_found_by_exact_name_and_labels() {
        let text = "dti_x_total{a=\"1\",b=\"2\"} 3\ndti_x_total_more{a=\"1\"} 9\ndti_y 4\n";
        assert_eq!(sample(text, "dti_x_total", &["b=\"2\""]), Some(3.0));
        assert_eq!(sample(text, "dti_x_total", &["b=\"3\""]), None);
        assert_eq!(sample(text, "dti_y", &[]), Some(4.0));
        assert_eq!(sample(text, "dti_x", &[]), None);
    }
}
