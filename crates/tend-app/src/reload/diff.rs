//! What a config reload changes: a pure comparison of the running config with the new one.

use crate::config::{Config, ProgramConfig};

/// The programs a reload adds, removes and changes, by name; the rest are left alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// In the new config only, in its order: set up and started.
    pub added: Vec<ProgramConfig>,
    /// In the running config only, in its order: stopped gracefully and removed.
    pub removed: Vec<String>,
    /// In both, with any setting different (command, env, watch, stop, restart policy, …),
    /// in the new config's order, with their new settings: respecified and restarted.
    pub changed: Vec<ProgramConfig>,
    /// In both, identical: untouched (same process).
    pub unchanged: Vec<String>,
}

impl Diff {
    /// Whether the reload changes no program.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// One line for the log, like `added d; removed a; changed b, c; 1 unchanged`.
    pub fn summary(&self) -> String {
        let names = |programs: &[ProgramConfig]| {
            programs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
        };
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("added {}", names(&self.added)));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed {}", self.removed.join(", ")));
        }
        if !self.changed.is_empty() {
            parts.push(format!("changed {}", names(&self.changed)));
        }
        parts.push(format!("{} unchanged", self.unchanged.len()));
        parts.join("; ")
    }
}

/// Compares the programs of two configs by name.
pub fn diff(old: &[ProgramConfig], new: &[ProgramConfig]) -> Diff {
    let find = |programs: &'_ [ProgramConfig], name: &str| -> Option<usize> {
        programs.iter().position(|p| p.name == name)
    };
    let mut diff = Diff::default();
    for program in old {
        if find(new, &program.name).is_none() {
            diff.removed.push(program.name.clone());
        }
    }
    for program in new {
        match find(old, &program.name).map(|i| &old[i]) {
            None => diff.added.push(program.clone()),
            Some(before) if before == program => diff.unchanged.push(program.name.clone()),
            Some(_) => diff.changed.push(program.clone()),
        }
    }
    diff
}

/// The app-level settings that differ and cannot change while tend runs (they take effect at
/// the next start of tend), for a warning: `name`, and any other top-level setting (`[log]`,
/// …) named generically.
pub fn app_level_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut changes = Vec::new();
    if old.name != new.name {
        changes.push(format!("the app name ({} → {})", old.name, new.name));
    }
    let settings =
        |config: &Config| Config { name: String::new(), programs: Vec::new(), ..config.clone() };
    if settings(old) != settings(new) {
        changes.push("app-level settings (outside [programs])".to_owned());
    }
    changes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::{Path, PathBuf};

    use super::*;
    use crate::config::Watch;

    fn program(name: &str) -> ProgramConfig {
        ProgramConfig::new(name, vec!["x".into()], PathBuf::from("/app"))
    }

    fn names(programs: &[ProgramConfig]) -> Vec<&str> {
        programs.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn adds_removes_and_changes_by_name() {
        let old = [program("a"), program("b"), program("c")];
        let mut b = program("b");
        b.env.insert("MODE".into(), "fast".into());
        let new = [program("d"), b.clone(), program("c"), program("e")];
        let diff = diff(&old, &new);
        assert_eq!(names(&diff.added), ["d", "e"], "in the new config's order");
        assert_eq!(diff.removed, ["a"]);
        assert_eq!(diff.changed, [b]);
        assert_eq!(diff.unchanged, ["c"]);
        assert!(!diff.is_empty());
        assert_eq!(diff.summary(), "added d, e; removed a; changed b; 1 unchanged");
    }

    #[test]
    fn identical_configs_change_nothing_whatever_the_order() {
        let old = [program("a"), program("b")];
        let new = [program("b"), program("a")];
        let diff = diff(&old, &new);
        assert!(diff.is_empty());
        assert_eq!(diff.unchanged, ["b", "a"]);
        assert_eq!(diff.summary(), "2 unchanged");
    }

    #[test]
    fn any_setting_counts_as_a_change() {
        let base = program("web");
        let edits: Vec<fn(&mut ProgramConfig)> = vec![
            |p| p.command.push("--flag".into()),
            |p| p.dir = PathBuf::from("/elsewhere"),
            |p| {
                p.env.insert("K".into(), "v".into());
            },
            |p| p.env_files.push(PathBuf::from("/app/.env.web")),
            |p| p.restart = crate::config::RestartPolicy::Always,
            |p| p.restart_exit_code = None,
            |p| p.backoff.initial = std::time::Duration::from_millis(10),
            |p| p.max_restarts.count = 1,
            |p| p.stop.signal = tend_runner::Signal::Interrupt,
            |p| p.stop.grace = std::time::Duration::from_secs(1),
            |p| p.watch = Some(Watch::new(vec![PathBuf::from("/app/src")])),
            |p| p.log.max_files = 1,
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            let mut changed = base.clone();
            edit(&mut changed);
            let diff = diff(std::slice::from_ref(&base), std::slice::from_ref(&changed));
            assert_eq!(diff.changed, [changed], "edit #{i}");
            assert!(diff.added.is_empty() && diff.removed.is_empty(), "edit #{i}");
        }
    }

    #[test]
    fn app_level_changes_are_named() {
        let text = "name = \"demo\"\n[programs.a]\ncommand = \"x\"\n";
        let old = Config::parse(text, Path::new("/app/tend.toml")).unwrap();
        assert!(app_level_changes(&old, &old.clone()).is_empty());

        let renamed = Config::parse(
            "name = \"other\"\n[log]\nmax_files = 2\n[programs.a]\ncommand = \"y\"\n",
            Path::new("/app/tend.toml"),
        )
        .unwrap();
        assert_eq!(
            app_level_changes(&old, &renamed),
            ["the app name (demo → other)", "app-level settings (outside [programs])"]
        );
        // A program's change alone is not an app-level change.
        let mut edited = old.clone();
        edited.programs[0].command = vec!["z".into()];
        assert!(app_level_changes(&old, &edited).is_empty());
    }
}
