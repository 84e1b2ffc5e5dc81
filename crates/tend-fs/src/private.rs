//! Refusing state that someone else could change: folders and files owned by another user,
//! or writable by the group or by others.
//!
//! tend creates every state folder with mode 0700 and every file with 0600. A folder that
//! already exists keeps the mode its user gave it (tend never changes it silently), so it is
//! checked at start instead: another user who can write into an app's folder can create
//! `restart-requested` and restart the app, or replace its run records; one who can write a
//! log file can forge its lines.

use std::path::Path;

use crate::FsError;

/// What is wrong with a path, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// What is wrong: `is writable by others (mode 0777)`.
    pub problem: String,
    /// The fix, as a command: `chmod 700 '/home/me/.tend/apps/web'`.
    pub fix: String,
}

/// Whether a path is a folder or a file, for [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A folder tend keeps state in (`apps/<app>`, `logs/`, `runs/`).
    Folder,
    /// A file in one of them.
    File,
    /// A folder above the app's state (`$TEND_HOME`, `apps/`): may belong to root, and may be
    /// writable by all when it is sticky (like `/tmp`), since nobody can then replace what is
    /// in it.
    Parent,
}

/// Judges one path from its owner, mode and kind, for the user `me`: `None` when it is safe.
///
/// ```
/// use tend_fs::{Kind, judge};
/// assert!(judge("/h/apps/web".as_ref(), Kind::Folder, 1000, 0o700, 1000).is_none());
/// let bad = judge("/h/apps/web".as_ref(), Kind::Folder, 1000, 0o777, 1000).unwrap();
/// assert_eq!(bad.problem, "is writable by its group and by others (mode 0777)");
/// assert_eq!(bad.fix, "chmod 700 /h/apps/web");
/// assert!(judge("/tmp".as_ref(), Kind::Parent, 0, 0o1777, 1000).is_none());
/// ```
pub fn judge(path: &Path, kind: Kind, owner: u32, mode: u32, me: u32) -> Option<Exposure> {
    let quoted = shell_quote(path);
    let trusted_owner = owner == me || (kind == Kind::Parent && owner == 0);
    if !trusted_owner {
        return Some(Exposure {
            problem: format!("is owned by user {owner}, not by you (user {me})"),
            fix: format!("sudo chown {me} {quoted}, or remove it"),
        });
    }
    let writable = mode & 0o022;
    let sticky = mode & 0o1000 != 0;
    if writable == 0 || (kind == Kind::Parent && sticky) {
        return None;
    }
    let who = match writable {
        0o020 => "its group",
        0o002 => "others",
        _ => "its group and by others",
    };
    let fix = match kind {
        Kind::Folder => format!("chmod 700 {quoted}"),
        Kind::File => format!("chmod 600 {quoted}"),
        Kind::Parent => format!("chmod go-w {quoted}"),
    };
    Some(Exposure { problem: format!("is writable by {who} (mode {:04o})", mode & 0o7777), fix })
}

/// Checks the state of one app before tend trusts it: every folder of `parents` (as
/// [`Kind::Parent`]), then `folder`, and every entry in it and in its sub-folders down to
/// `depth` levels (folders as [`Kind::Folder`], files as [`Kind::File`]). Symbolic links are
/// judged by what they point to; sockets (the control socket, replaced at each start) and
/// paths that vanish meanwhile are skipped. Nothing is changed.
///
/// # Errors
/// [`FsError::Exposed`] for the first path that is not safe, naming it and the fix;
/// [`FsError::Io`] when a folder cannot be read.
pub fn check_private(parents: &[&Path], folder: &Path, depth: usize) -> Result<(), FsError> {
    // Without user ids (Windows), files are private by their folder's ACL: nothing to check.
    let Some(me) = crate::os::current_uid() else { return Ok(()) };
    for parent in parents {
        check_one(parent, Kind::Parent, me)?;
    }
    check_tree(folder, depth, me)
}

fn check_tree(folder: &Path, depth: usize, me: u32) -> Result<(), FsError> {
    if !check_one(folder, Kind::Folder, me)? || depth == 0 {
        return Ok(());
    }
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(FsError::io("reading the folder", folder, e)),
    };
    let mut paths: Vec<std::path::PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => check_tree(&path, depth - 1, me)?,
            Ok(_) => {
                check_one(&path, Kind::File, me)?;
            }
            Err(_) => {}
        }
    }
    Ok(())
}

/// Judges `path`; `Ok(false)` when it is not there (or is a socket), `Ok(true)` when it is safe.
fn check_one(path: &Path, kind: Kind, me: u32) -> Result<bool, FsError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(FsError::io("inspecting", path, e)),
    };
    if crate::os::is_socket(&meta.file_type()) {
        return Ok(false);
    }
    let Some((owner, mode)) = crate::os::owner_and_mode(&meta) else { return Ok(true) };
    match judge(path, kind, owner, mode, me) {
        None => Ok(true),
        Some(Exposure { problem, fix }) => {
            Err(FsError::Exposed { path: path.to_path_buf(), problem, fix })
        }
    }
}

/// `path` as one word for a shell: as it is when it has only safe characters, else in single
/// quotes.
fn shell_quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%,=".contains(&b));
    if plain { text.into_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    fn problem(kind: Kind, owner: u32, mode: u32) -> Option<String> {
        judge(Path::new("/s/x y"), kind, owner, mode, ME)
            .map(|e| format!("{}; {}", e.problem, e.fix))
    }

    #[test]
    fn private_state_is_safe() {
        assert_eq!(problem(Kind::Folder, ME, 0o700), None);
        assert_eq!(problem(Kind::Folder, ME, 0o755), None, "readable is not writable");
        assert_eq!(problem(Kind::File, ME, 0o600), None);
        assert_eq!(problem(Kind::Parent, 0, 0o755), None, "a parent may belong to root");
        assert_eq!(problem(Kind::Parent, ME, 0o1777), None, "a sticky parent is safe");
    }

    #[test]
    fn writable_state_is_refused_with_its_fix() {
        assert_eq!(
            problem(Kind::Folder, ME, 0o770).unwrap(),
            "is writable by its group (mode 0770); chmod 700 '/s/x y'"
        );
        assert_eq!(
            problem(Kind::File, ME, 0o666).unwrap(),
            "is writable by its group and by others (mode 0666); chmod 600 '/s/x y'"
        );
        assert_eq!(
            problem(Kind::Parent, ME, 0o757).unwrap(),
            "is writable by others (mode 0757); chmod go-w '/s/x y'"
        );
        assert!(problem(Kind::Folder, ME, 0o1777).is_some(), "sticky is enough only above");
    }

    #[test]
    fn state_of_another_user_is_refused() {
        assert_eq!(
            problem(Kind::File, 0, 0o600).unwrap(),
            "is owned by user 0, not by you (user 1000); sudo chown 1000 '/s/x y', or remove it"
        );
        assert!(problem(Kind::Parent, 1001, 0o755).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn the_first_exposed_entry_is_named() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        std::fs::create_dir_all(app.join("logs")).unwrap();
        std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o700)).unwrap();
        let log = app.join("logs").join("web.log");
        std::fs::write(&log, "x").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o600)).unwrap();
        check_private(&[], &app, 2).unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
        let err = check_private(&[], &app, 2).unwrap_err();
        assert!(err.to_string().contains(&format!("{} is writable", log.display())), "{err}");
        check_private(&[], &app, 1).unwrap_or_else(|e| panic!("depth 1 stops above logs/: {e}"));
    }
}
