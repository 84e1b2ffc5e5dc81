//! The one HTTP client: short bounded timeouts, a descriptive User-Agent, statuses other than
//! 200 as errors.

use std::io::Read;
use std::time::Duration;

use crate::UpdateError;

/// An agent whose every request ends within `timeout` (connecting within a third of it).
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout / 3))
        .user_agent(crate::user_agent())
        .http_status_as_error(false)
        .tls_config(ureq::tls::TlsConfig::builder().provider(crate::os::TLS).build())
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>, UpdateError> {
    let http = |message: String| UpdateError::Http { url: url.to_owned(), message };
    let response = agent.get(url).call().map_err(|e| http(e.to_string()))?;
    match response.status().as_u16() {
        200 => Ok(response),
        code => Err(http(format!("HTTP {code}"))),
    }
}

/// The body of `url` as text, at most `limit` bytes.
pub(crate) fn text(agent: &ureq::Agent, url: &str, limit: u64) -> Result<String, UpdateError> {
    let mut response = get(agent, url)?;
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_string()
        .map_err(|e| UpdateError::Http { url: url.to_owned(), message: e.to_string() })
}

/// Whether `url` exists: `Ok(None)` on 404.
pub(crate) fn optional_text(
    agent: &ureq::Agent,
    url: &str,
    limit: u64,
) -> Result<Option<String>, UpdateError> {
    let http = |message: String| UpdateError::Http { url: url.to_owned(), message };
    let mut response = agent.get(url).call().map_err(|e| http(e.to_string()))?;
    match response.status().as_u16() {
        404 => Ok(None),
        200 => response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_string()
            .map(Some)
            .map_err(|e| http(e.to_string())),
        code => Err(http(format!("HTTP {code}"))),
    }
}

/// Copies the body of `url` into `out`, at most `limit` bytes.
pub(crate) fn download(
    agent: &ureq::Agent,
    url: &str,
    out: &mut impl std::io::Write,
    limit: u64,
) -> Result<u64, UpdateError> {
    let response = get(agent, url)?;
    let mut reader = response.into_body().into_reader().take(limit + 1);
    let copied = std::io::copy(&mut reader, out)
        .map_err(|e| UpdateError::Http { url: url.to_owned(), message: e.to_string() })?;
    if copied > limit {
        return Err(UpdateError::Http {
            url: url.to_owned(),
            message: format!("larger than {limit} bytes"),
        });
    }
    Ok(copied)
}
