//! Private folders.

use std::path::Path;

/// Creates `dir` and its missing parents, each new one private to the user (mode 0700 on
/// Unix; elsewhere the parent's ACL applies). An existing folder is left as it is.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("tend-fs-doc-dir-{}", std::process::id()));
/// tend_fs::create_private_dir(&dir.join("a/b"))?;
/// assert!(dir.join("a/b").is_dir());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// When a folder cannot be created (no permission, a file in the way).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    crate::os::private_dirs(&mut builder);
    builder.create(dir)
}
