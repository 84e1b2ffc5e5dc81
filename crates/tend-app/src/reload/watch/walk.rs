//! Watching a tree folder by folder, where the OS watches one folder at a time (inotify): the
//! walk that decides which folders get a watch.
//!
//! A folder gets a watch unless the [`Ignore`] rules ignore it (its content is then ignored
//! too, so no change there could count): a `node_modules` of ten thousand folders costs no
//! watch. Each folder is watched before it is listed, so that a file created in between is
//! reported by the watch or found by the listing, never missed. Symlinks are not followed (a
//! link to a folder is a file here, as it is for FSEvents and ReadDirectoryChangesW): no loop,
//! and no watch on a tree outside the watched one. The walk keeps its own stack, so a deep
//! tree needs no deep recursion.

use std::path::{Path, PathBuf};

use super::Ignore;

/// What to do after trying to watch a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// It is watched: walk into it.
    Descend,
    /// It could not be watched (gone, unreadable): leave it out, go on with the rest.
    Skip,
    /// Nothing more can be watched (the OS limit is reached): stop the walk.
    Stop,
}

/// Walks the tree at `top` (a folder, or a single file): calls `watch` for `top` and then for
/// each folder below it that `ignore` does not ignore, parents first; and `found`, if given,
/// for each other entry (file, symlink) below a watched folder that `ignore` does not ignore.
/// `top` itself is not checked against `ignore`: the caller decided to watch it.
pub fn walk(
    top: &Path,
    ignore: &Ignore,
    watch: &mut dyn FnMut(&Path) -> Flow,
    mut found: Option<&mut dyn FnMut(PathBuf)>,
) {
    let mut folders = vec![top.to_path_buf()];
    while let Some(folder) = folders.pop() {
        match watch(&folder) {
            Flow::Descend => {}
            Flow::Skip => continue,
            Flow::Stop => return,
        }
        // Not a folder (a watched file), gone meanwhile, or unreadable: nothing below it.
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        let mut below = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            // The type of the entry itself: a symlink to a folder is not a folder.
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                if !ignore.is_ignored(&path) {
                    below.push(path);
                }
            } else if let Some(found) = found.as_mut()
                && !ignore.is_ignored(&path)
            {
                found(path);
            }
        }
        // Popped in name order: a predictable walk (and log) for the same tree.
        below.sort_unstable_by(|a, b| b.cmp(a));
        folders.extend(below);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::fs;

    use super::*;

    /// A tree under a temporary folder: `folders` and `files`, relative to it.
    fn tree(folders: &[&str], files: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for folder in folders {
            fs::create_dir_all(root.path().join(folder)).unwrap();
        }
        for file in files {
            fs::write(root.path().join(file), "x").unwrap();
        }
        root
    }

    /// The folders watched and the files found by a walk of `top` where every watch succeeds,
    /// relative to `root`.
    fn walked(root: &Path, top: &Path, ignore: &Ignore) -> (Vec<String>, Vec<String>) {
        let mut watched = Vec::new();
        let mut files = Vec::new();
        let shown = |p: &Path| p.strip_prefix(root).unwrap().display().to_string();
        walk(
            top,
            ignore,
            &mut |folder| {
                watched.push(shown(folder));
                Flow::Descend
            },
            Some(&mut |file| files.push(shown(&file))),
        );
        files.sort();
        (watched, files)
    }

    fn rules(base: &Path, patterns: &[&str]) -> Ignore {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        Ignore::new(base, &[base.join("src")], &patterns).unwrap()
    }

    #[test]
    fn ignored_folders_get_no_watch_and_their_files_are_not_found() {
        let root = tree(
            &[
                "src/lib/deep",
                "src/node_modules/pkg/lib",
                "src/.git/objects",
                "src/target/debug",
                "src/__pycache__",
                "src/build",
                "src/lib/gen/x",
            ],
            &[
                "src/app.py",
                "src/notes.tmp",
                "src/lib/deep/m.py",
                "src/node_modules/pkg/index.js",
                "src/__pycache__/app.pyc",
                "src/build/out.o",
                "src/lib/gen/x/g.rs",
                "src/.gitignore",
            ],
        );
        let base = root.path();
        let ignore = rules(base, &["**/__pycache__/**", "*.tmp", "**/build", "src/lib/gen"]);
        let (watched, files) = walked(base, &base.join("src"), &ignore);
        assert_eq!(watched, ["src", "src/lib", "src/lib/deep"]);
        assert_eq!(files, ["src/.gitignore", "src/app.py", "src/lib/deep/m.py"]);
    }

    #[test]
    fn the_top_is_watched_as_given_and_a_file_is_a_tree_of_one() {
        let root = tree(&["app/node_modules/x"], &["app/node_modules/x/i.js", "flaky.py"]);
        let base = root.path();
        // The caller chose the top: it is watched even where the rules would ignore it.
        let (watched, files) = walked(base, &base.join("app/node_modules"), &rules(base, &[]));
        assert_eq!(watched, ["app/node_modules"]);
        assert!(files.is_empty(), "{files:?}");
        let (watched, files) = walked(base, &base.join("flaky.py"), &rules(base, &[]));
        assert_eq!(watched, ["flaky.py"]);
        assert!(files.is_empty(), "{files:?}");
    }

    #[test]
    fn a_folder_that_cannot_be_watched_is_left_out_and_a_limit_stops_the_walk() {
        let root = tree(&["src/a/a1", "src/b/b1", "src/c"], &["src/a/a1/f", "src/b/b1/f"]);
        let base = root.path();
        let ignore = rules(base, &[]);
        let mut watched = Vec::new();
        let mut files = Vec::new();
        walk(
            &base.join("src"),
            &ignore,
            &mut |folder| {
                let name = folder.strip_prefix(base).unwrap().display().to_string();
                let flow = match name.as_str() {
                    "src/a" => Flow::Skip,
                    "src/b/b1" => Flow::Stop,
                    _ => Flow::Descend,
                };
                watched.push(name);
                flow
            },
            Some(&mut |file| files.push(file)),
        );
        assert_eq!(watched, ["src", "src/a", "src/b", "src/b/b1"]);
        assert!(files.is_empty(), "{files:?}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let root = tree(&["src/real/inner", "outside/big/tree"], &["outside/big/f"]);
        let base = root.path();
        std::os::unix::fs::symlink(base.join("src"), base.join("src/real/inner/loop")).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), base.join("src/out")).unwrap();
        let (watched, files) = walked(base, &base.join("src"), &rules(base, &[]));
        assert_eq!(watched, ["src", "src/real", "src/real/inner"]);
        // A link is an entry like a file: its own change counts.
        assert_eq!(files, ["src/out", "src/real/inner/loop"]);
    }
}
