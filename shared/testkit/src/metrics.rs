//! Reading a service's Prometheus `/metrics` in tests: one scrape over plain HTTP/1.1 and the
//! value of one sample, or the sum of several, by name and labels.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The request of a scrape.
const REQUEST: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

/// `GET /metrics` of the endpoint at `addr`: the whole response, headers included.
pub async fn scrape(addr: SocketAddr) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(REQUEST).await?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await?;
    Ok(body)
}

/// `GET /metrics` of the endpoint on a local `port`, from code that is not async.
pub fn scrape_port(port: u16) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.write_all(REQUEST)?;
    let mut body = String::new();
    stream.read_to_string(&mut body)?;
    Ok(body)
}

/// The sum of the samples `name` (exactly, with or without labels) whose labels include every
/// one of `labels` (`key="value"`): e.g. a counter over all its other labels.
pub fn sample_sum(metrics: &str, name: &str, labels: &[&str]) -> f64 {
    samples_of(metrics, name)
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(value_of)
        .sum()
}

/// The value of the sample `name` (exactly, with or without labels) whose labels include
/// every one of `labels` (`key="value"`).
pub fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    samples_of(metrics, name)
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(value_of)
}

/// The lines of the samples `name`, exactly, with or without labels.
fn samples_of<'a>(metrics: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    metrics.lines().filter(move |line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
    })
}

/// The value of a sample line.
fn value_of(line: &str) -> Option<f64> {
    line.rsplit(' ').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{sample, sample_sum};

    #[test]
    fn a_sample_is_found_by_exact_name_and_labels() {
        let text = "dti_x_total{a=\"1\",b=\"2\"} 3\ndti_x_total_more{a=\"1\"} 9\ndti_y 4\n";
        assert_eq!(sample(text, "dti_x_total", &["b=\"2\""]), Some(3.0));
        assert_eq!(sample(text, "dti_x_total", &["b=\"3\""]), None);
        assert_eq!(sample(text, "dti_y", &[]), Some(4.0));
        assert_eq!(sample(text, "dti_x", &[]), None);
        assert_eq!(sample_sum(text, "dti_x_total", &[]), 3.0);
        let two = "c{a=\"1\",o=\"p\"} 2\nc{a=\"2\",o=\"p\"} 5\nc{a=\"2\",o=\"q\"} 7\n";
        assert_eq!(sample_sum(two, "c", &["o=\"p\""]), 7.0);
    }
}
