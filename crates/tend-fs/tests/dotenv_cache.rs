//! `DotenvCache`: real files, re-read when their size, modification time or identity change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tend_fs::dotenv::{DotenvCache, ProblemKind, is_private, permission_warning};

fn set_mtime(path: &Path, time: SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(time).unwrap();
}

fn an_hour_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

#[test]
fn missing_file_is_empty_until_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    let missing = cache.get(&path).unwrap();
    assert!(missing.entries.is_empty() && missing.problems.is_empty());
    assert!(Arc::ptr_eq(&missing, &cache.get(&path).unwrap()), "missing is cached");
    assert_eq!(cache.reads(), 0);

    std::fs::write(&path, "A=1\n").unwrap();
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("1"));

    std::fs::remove_file(&path).unwrap();
    assert!(cache.get(&path).unwrap().entries.is_empty(), "a deleted file is empty again");
}

#[test]
fn different_size_is_reread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    std::fs::write(&path, "A=1\n").unwrap();
    set_mtime(&path, an_hour_ago());
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("1"));
    std::fs::write(&path, "A=22\n").unwrap();
    set_mtime(&path, an_hour_ago());
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("22"));
}

#[test]
fn same_size_different_mtime_is_reread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    let t0 = an_hour_ago();
    std::fs::write(&path, "A=1\n").unwrap();
    set_mtime(&path, t0);
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("1"));
    std::fs::write(&path, "A=2\n").unwrap();
    set_mtime(&path, t0 + Duration::from_secs(10));
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("2"));
}

/// A rewrite that keeps the size and restores the old modification time is still noticed (on
/// Unix through the change time, which nobody can set back).
#[cfg(unix)]
#[test]
fn same_size_same_mtime_is_reread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    let t0 = an_hour_ago();
    std::fs::write(&path, "A=1\n").unwrap();
    set_mtime(&path, t0);
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("1"));
    std::fs::write(&path, "A=2\n").unwrap();
    set_mtime(&path, t0);
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("2"));
}

#[test]
fn quick_same_size_rewrites_are_all_seen() {
    // Rewrites faster than the file system's timestamp tick: every one must be seen.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    for i in 0..50 {
        std::fs::write(&path, format!("A={:02}\n", i)).unwrap();
        assert_eq!(cache.get(&path).unwrap().get("A"), Some(format!("{i:02}").as_str()));
    }
}

#[test]
fn unchanged_gives_the_same_arc() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    // A file just written (its timestamps too recent to trust) ...
    std::fs::write(&path, "A=1\n").unwrap();
    let first = cache.get(&path).unwrap();
    assert!(Arc::ptr_eq(&first, &cache.get(&path).unwrap()));
    // ... and one written long ago.
    set_mtime(&path, an_hour_ago());
    let old = cache.get(&path).unwrap();
    assert!(Arc::ptr_eq(&first, &old), "a touch without a content change keeps the Arc");
    assert!(Arc::ptr_eq(&old, &cache.get(&path).unwrap()));
}

#[test]
fn replaced_by_rename_is_reread() {
    // Editors and tend's own atomic writes replace the file by renaming a new one over it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cache = DotenvCache::new();
    tend_fs::write_text(&path, "A=1\n").unwrap();
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("1"));
    tend_fs::write_text(&path, "A=2\n").unwrap();
    assert_eq!(cache.get(&path).unwrap().get("A"), Some("2"));
}

#[test]
fn problems_are_kept_with_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "A=1\nbroken\nB=2\n").unwrap();
    let parsed = DotenvCache::new().get(&path).unwrap();
    assert_eq!(parsed.get("B"), Some("2"));
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].kind, ProblemKind::MissingEquals);
    assert!(
        parsed.problems[0]
            .in_file(&path)
            .to_string()
            .ends_with(".env:2: expected `KEY=value` but the line has no `=`; the line is skipped")
    );
}

#[test]
fn a_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = DotenvCache::new().get(dir.path()).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains(&dir.path().display().to_string()), "{shown}");
}

#[test]
fn shared_between_threads() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<_> = (0..4).map(|i| dir.path().join(format!("{i}.env"))).collect();
    for (i, path) in paths.iter().enumerate() {
        std::fs::write(path, format!("N={i}\n")).unwrap();
    }
    let cache = Arc::new(DotenvCache::new());
    std::thread::scope(|scope| {
        for t in 0..8 {
            let cache = Arc::clone(&cache);
            let paths = &paths;
            scope.spawn(move || {
                for round in 0..200 {
                    let i = (t + round) % paths.len();
                    let parsed = cache.get(&paths[i]).unwrap();
                    assert_eq!(parsed.get("N"), Some(i.to_string().as_str()));
                }
            });
        }
    });
}

#[cfg(unix)]
#[test]
fn permission_warnings() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    assert!(is_private(&path), "a missing file is not a leak");
    assert_eq!(permission_warning(&path), None);

    std::fs::write(&path, "K=v\n").unwrap();
    for (mode, who) in
        [(0o644, "its group and other users"), (0o640, "its group"), (0o604, "other users")]
    {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        assert!(!is_private(&path));
        let warning = permission_warning(&path).unwrap();
        assert!(
            warning.contains(&format!("but {who} can access it (mode {mode:04o})")),
            "{warning}"
        );
        assert!(warning.ends_with(&format!("fix with: chmod 600 {}", path.display())), "{warning}");
    }
    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        assert!(is_private(&path));
        assert_eq!(permission_warning(&path), None);
    }
}
