//! The version check: the sparse index entry of `tend-cli`, at most once a day, cached in
//! `$TEND_HOME/update.json`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::UpdateError;

/// The longest index entry read.
const MAX_ENTRY: u64 = 4 << 20;

/// Which releases count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Stable releases only.
    #[default]
    Stable,
    /// Pre-releases too (`[update] channel = "pre"`).
    Pre,
}

impl Channel {
    /// `stable` or `pre`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stable => "stable",
            Channel::Pre => "pre",
        }
    }
}

/// What `update.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// When the index was last read, seconds since the Unix epoch.
    pub checked_at: u64,
    /// The index it was read from.
    pub index: String,
    /// The channel it was read for.
    pub channel: Channel,
    /// The newest release then, if any.
    #[serde(default)]
    pub latest: Option<String>,
    /// The newest version a running app already reported (never twice for the same one).
    #[serde(default)]
    pub notified: Option<String>,
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// This binary's version.
    pub current: semver::Version,
    /// The newest release of the channel, if the index has one.
    pub latest: Option<semver::Version>,
    /// Whether it came from `update.json` (checked less than a day ago).
    pub cached: bool,
}

impl Check {
    /// The newest release, when it is newer than this binary.
    pub fn newer(&self) -> Option<&semver::Version> {
        self.latest.as_ref().filter(|latest| **latest > self.current)
    }
}

/// How to check: where, for which channel, how long to wait, and where the result is cached.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The index base URL (`[update] index`, `TEND_UPDATE_INDEX`, [`crate::DEFAULT_INDEX`]).
    pub index: String,
    /// Which releases count.
    pub channel: Channel,
    /// The bound of one request.
    pub timeout: Duration,
    /// `$TEND_HOME/update.json`.
    pub cache: PathBuf,
    /// The version compared against.
    pub current: semver::Version,
    /// How long a cached result is used instead of asking again (a day).
    pub max_age: Duration,
}

impl Checker {
    /// A checker for this binary, with a 5 s bound and a day's cache.
    pub fn new(index: impl Into<String>, channel: Channel, tend_home: &std::path::Path) -> Self {
        Checker {
            index: index.into(),
            channel,
            timeout: Duration::from_secs(5),
            cache: tend_home.join("update.json"),
            current: crate::BuildInfo::current().semver(),
            max_age: Duration::from_secs(24 * 60 * 60),
        }
    }

    /// The cache, or an empty one when there is none or it cannot be read.
    pub fn load_cache(&self) -> Cache {
        std::fs::read(&self.cache)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the cache atomically.
    ///
    /// # Errors
    /// When it cannot be written.
    pub fn save_cache(&self, cache: &Cache) -> Result<(), UpdateError> {
        Ok(tend_fs::write_json(&self.cache, cache)?)
    }

    /// The newest release: from the cache when it is less than a day old (and `fresh` is
    /// false), else from the index (and then cached).
    ///
    /// # Errors
    /// A request that fails or times out, an entry that is not a sparse index entry. Callers
    /// that only inform (the background check) log these at debug level.
    pub fn check(&self, fresh: bool) -> Result<Check, UpdateError> {
        let mut cache = self.load_cache();
        let now = now_secs();
        let young = now.saturating_sub(cache.checked_at) < self.max_age.as_secs()
            && cache.checked_at <= now;
        if !fresh && young && cache.index == self.index && cache.channel == self.channel {
            let latest = cache.latest.as_deref().and_then(|v| semver::Version::parse(v).ok());
            return Ok(Check { current: self.current.clone(), latest, cached: true });
        }
        let latest = self.fetch()?;
        cache.checked_at = now;
        cache.index.clone_from(&self.index);
        cache.channel = self.channel;
        cache.latest = latest.as_ref().map(ToString::to_string);
        if let Err(e) = self.save_cache(&cache) {
            tracing::debug!("cannot cache the update check: {e}");
        }
        Ok(Check { current: self.current.clone(), latest, cached: false })
    }

    /// Reads the index now.
    fn fetch(&self) -> Result<Option<semver::Version>, UpdateError> {
        let url = crate::index::entry_url(&self.index, crate::PACKAGE);
        let text = crate::http::text(&crate::http::agent(self.timeout), &url, MAX_ENTRY)?;
        let entries = crate::index::parse(&text)
            .map_err(|message| UpdateError::BadIndex { url: url.clone(), message })?;
        Ok(crate::index::newest(&entries, self.channel).map(|(version, _)| version))
    }

    /// Records that `version` was reported, so that it is never reported twice.
    ///
    /// # Errors
    /// When the cache cannot be written.
    pub fn mark_notified(&self, version: &semver::Version) -> Result<(), UpdateError> {
        let mut cache = self.load_cache();
        cache.notified = Some(version.to_string());
        self.save_cache(&cache)
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
