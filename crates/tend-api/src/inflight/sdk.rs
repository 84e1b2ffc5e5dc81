//! The Rust API of a program under tend: report work in progress to the running app.

use std::time::Duration;

use super::{InflightError, Item, check_fields};
use crate::client::{self, ClientError};
use crate::{AppHome, InflightBegin, InflightDone, InflightList};

/// How long a request may take. tend listens on its control socket before it starts any
/// program, so a program never finds its app without an API to report to.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Reports in-flight work of a program to its running app, over the app's control socket.
///
/// ```no_run
/// # async fn work() -> Result<(), tend_api::inflight::InflightError> {
/// let inflight = tend_api::inflight::Inflight::from_env()?;
/// inflight.begin("job-17", Some("resize photo 17")).await?;
/// // ... the work ...
/// inflight.done("job-17").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Inflight {
    home: AppHome,
    program: Option<String>,
    timeout: Duration,
}

impl Inflight {
    /// The app this program runs under: its state folder from `TEND_STATE_DIR`, and the
    /// program's name from `TEND_PROGRAM` (recorded with every item it begins).
    ///
    /// # Errors
    /// [`InflightError::NotUnderTend`] when `TEND_STATE_DIR` does not name an app's state
    /// folder.
    pub fn from_env() -> Result<Inflight, InflightError> {
        let home = AppHome::from_state_dir_env().ok_or(InflightError::NotUnderTend)?;
        let program = std::env::var("TEND_PROGRAM").ok().filter(|p| !p.is_empty());
        Ok(Inflight { home, program, timeout: TIMEOUT })
    }

    /// The app whose state folder is `home`, with no program name.
    pub fn new(home: AppHome) -> Inflight {
        Inflight { home, program: None, timeout: TIMEOUT }
    }

    /// Records `program` as the reporter of the items begun from now on.
    #[must_use]
    pub fn with_program(mut self, program: Option<String>) -> Inflight {
        self.program = program;
        self
    }

    /// The app's name.
    pub fn app(&self) -> &str {
        &self.home.app
    }

    /// Reports that `id` is in progress, with an optional `label` for people. Begun again, an
    /// open ID keeps its first start time and takes the new label. Returns the item as the app
    /// records it.
    ///
    /// # Errors
    /// A rejected ID or label (too long, empty ID, control characters), too many open items,
    /// the app not running ([`InflightError::NotRunning`]) or not reachable.
    pub async fn begin(&self, id: &str, label: Option<&str>) -> Result<Item, InflightError> {
        check_fields(id, label, self.program.as_deref())?;
        let body = serde_json::to_value(InflightBegin {
            id: id.to_owned(),
            label: label.map(str::to_owned),
            program: self.program.clone(),
        })
        .map_err(|e| self.failed(e.to_string()))?;
        let response = self.send("POST", "/v1/inflight".into(), Some(&body)).await?;
        self.parse(&response.body)
    }

    /// Reports that `id` is finished. Returns whether it was open (finishing an ID that is not
    /// open is no error).
    ///
    /// # Errors
    /// The app not running ([`InflightError::NotRunning`]) or not reachable.
    pub async fn done(&self, id: &str) -> Result<bool, InflightError> {
        let uri = format!("/v1/inflight/{}", client::percent_encode(id));
        let response = self.send("DELETE", uri, None).await?;
        let done: InflightDone = self.parse(&response.body)?;
        Ok(done.removed)
    }

    /// The open items and the ones interrupted at this start of the app.
    ///
    /// # Errors
    /// The app not running ([`InflightError::NotRunning`]) or not reachable.
    pub async fn list(&self) -> Result<InflightList, InflightError> {
        let response = self.send("GET", "/v1/inflight".into(), None).await?;
        self.parse(&response.body)
    }

    async fn send(
        &self,
        method: &str,
        uri: String,
        body: Option<&serde_json::Value>,
    ) -> Result<client::Response, InflightError> {
        let socket = crate::address::connect_path(&self.home);
        match client::request_json(&socket, method, &uri, body, self.timeout).await {
            Ok(response) if response.is_success() => Ok(response),
            Ok(response) => Err(InflightError::Rejected {
                app: self.home.app.clone(),
                status: response.status,
                message: response.error_message(),
            }),
            Err(ClientError::NotRunning) => {
                Err(InflightError::NotRunning { app: self.home.app.clone() })
            }
            Err(ClientError::Failed(message)) => Err(self.failed(message)),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, body: &[u8]) -> Result<T, InflightError> {
        serde_json::from_slice(body)
            .map_err(|e| self.failed(format!("unreadable answer from the app: {e}")))
    }

    fn failed(&self, message: String) -> InflightError {
        InflightError::Failed { app: self.home.app.clone(), message }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_encoded_as_one_segment() {
        assert_eq!(client::percent_encode("job 1/ü"), "job%201%2F%C3%BC");
        assert_eq!(client::percent_encode("a-b_c.d~e"), "a-b_c.d~e");
    }

    #[tokio::test]
    async fn a_bad_id_is_refused_before_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let inflight = Inflight::new(AppHome::new(dir.path(), "demo"));
        let error = inflight.begin("", None).await.unwrap_err();
        assert!(matches!(error, InflightError::EmptyId), "{error}");
        let error = inflight.begin("a", None).await.unwrap_err();
        assert!(matches!(error, InflightError::NotRunning { .. }), "{error}");
        assert_eq!(error.to_string(), "app `demo` is not running");
    }
}
