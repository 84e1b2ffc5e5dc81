//! Who owns an app's container: [`ContainerOwner`], as labels (the creator) and as the owner
//! file inside the container (the current owner).
//!
//! Labels cannot be changed on an existing container, and a reused container is adopted by a
//! later tend. So the labels record the tend that created the container, and the current owner
//! is written, through the archive API (no shell needed), to [`OWNER_FILE`] in the
//! container's own file system: it lives and dies with the container, and `reap` reads it
//! (falling back to the labels when it is missing) without any state on this machine.

use std::collections::HashMap;
use std::io::Read as _;

use crate::records::{Owner, current_boot_id};

/// The label marking a container as tend's.
pub(crate) const LABEL_MANAGED: &str = "tend.managed";
/// The label holding the app's name.
pub(crate) const LABEL_APP: &str = "tend.app";
/// The label holding the container's fingerprint.
pub(crate) const LABEL_FINGERPRINT: &str = "tend.fingerprint";
/// The label holding the id of the image the container was created from.
pub(crate) const LABEL_IMAGE_ID: &str = "tend.image_id";
const LABEL_PID: &str = "tend.owner.pid";
const LABEL_START: &str = "tend.owner.start_time";
const LABEL_BOOT: &str = "tend.owner.boot_id";

/// Where the current owner is written inside the container (at its root).
pub const OWNER_FILE: &str = "/.tend-owner.json";
const OWNER_ENTRY: &str = ".tend-owner.json";

/// A tend process, told apart from any later process with the same pid: pid, start time and
/// boot id (a bare pid is never trusted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerOwner {
    /// Its pid.
    pub pid: u32,
    /// Its start time (see [`crate::ProcInfo::start_time`]).
    pub start_time: u64,
    /// The boot it runs in.
    pub boot_id: String,
}

impl ContainerOwner {
    /// This process.
    pub fn current() -> Self {
        let Owner { pid, start_time } = Owner::current();
        ContainerOwner { pid, start_time, boot_id: current_boot_id().unwrap_or_default() }
    }

    /// Whether it still runs: same boot, and its pid has the same start time.
    pub fn is_alive(&self) -> bool {
        Owner { pid: self.pid, start_time: self.start_time }.is_alive(&self.boot_id)
    }

    /// The owner labels.
    pub(crate) fn labels(&self) -> [(String, String); 3] {
        [
            (LABEL_PID.into(), self.pid.to_string()),
            (LABEL_START.into(), self.start_time.to_string()),
            (LABEL_BOOT.into(), self.boot_id.clone()),
        ]
    }

    /// The owner the labels name, if they name a whole one.
    pub(crate) fn from_labels(labels: &HashMap<String, String>) -> Option<Self> {
        Some(ContainerOwner {
            pid: labels.get(LABEL_PID)?.parse().ok()?,
            start_time: labels.get(LABEL_START)?.parse().ok()?,
            boot_id: labels.get(LABEL_BOOT)?.clone(),
        })
    }

    /// A tar archive holding the owner file, to upload at `/`.
    pub(crate) fn to_tar(&self) -> std::io::Result<Vec<u8>> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(crate::records::RunRecord::now_secs());
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append_data(&mut header, OWNER_ENTRY, json.as_slice())?;
        builder.into_inner()
    }

    /// The owner in an archive downloaded from [`OWNER_FILE`].
    pub(crate) fn from_tar(archive: &[u8]) -> Option<Self> {
        let mut archive = tar::Archive::new(archive);
        let mut entry = archive.entries().ok()?.next()?.ok()?;
        let mut json = Vec::new();
        entry.by_ref().take(64 * 1024).read_to_end(&mut json).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_labels_and_tar() {
        let me = ContainerOwner::current();
        assert!(me.is_alive());
        let labels: HashMap<String, String> = me.labels().into_iter().collect();
        assert_eq!(ContainerOwner::from_labels(&labels), Some(me.clone()));
        assert_eq!(ContainerOwner::from_tar(&me.to_tar().unwrap()), Some(me.clone()));
        let later = ContainerOwner { start_time: me.start_time + 1, ..me.clone() };
        assert!(!later.is_alive(), "same pid, other start time: another process");
        let other_boot = ContainerOwner { boot_id: "another-boot".into(), ..me };
        assert!(!other_boot.is_alive());
        assert_eq!(ContainerOwner::from_labels(&HashMap::new()), None);
    }
}
