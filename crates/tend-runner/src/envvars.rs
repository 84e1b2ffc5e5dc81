//! An ordered set of environment variables with PATH-like appending.

use std::ffi::OsString;

/// Environment variables to add to a process, in order; a later value for the same key wins.
///
/// ```
/// use tend_runner::EnvVars;
/// let mut vars = EnvVars::default();
/// vars.set("PATH", "/opt/bin");
/// vars.append("PATH", "/usr/bin", ":", None);
/// assert_eq!(vars.get("PATH"), Some("/opt/bin:/usr/bin"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVars {
    vars: Vec<(String, String)>,
}

impl EnvVars {
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.vars.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((key, value)),
        }
    }

    /// The value set for `key` here, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Extends `key` with `sep` and `value` instead of replacing it. The current value is the one
    /// set here, else `fallback` (the value the process would otherwise get, e.g. from the
    /// environment level or tend's own environment); with neither, `value` alone is set.
    pub fn append(&mut self, key: &str, value: &str, sep: &str, fallback: Option<&str>) {
        let joined = match self.get(key).or(fallback) {
            Some(current) if !current.is_empty() => format!("{current}{sep}{value}"),
            _ => value.to_string(),
        };
        self.set(key, joined);
    }

    /// Adds every variable of `other`, overriding same-named ones.
    pub fn extend(&mut self, other: &EnvVars) {
        for (k, v) in &other.vars {
            self.set(k.clone(), v.clone());
        }
    }

    /// The variables, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there is no variable.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EnvVars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut vars = EnvVars::default();
        for (k, v) in iter {
            vars.set(k, v);
        }
        vars
    }
}

/// Looks `name` up on `path` (a PATH value) the way a shell would: a name with a separator is
/// taken as is; otherwise the first executable regular file named `name` in a PATH entry.
pub(crate) fn find_binary(name: &str, path: Option<&OsString>) -> Option<std::path::PathBuf> {
    let candidate = std::path::Path::new(name);
    if candidate.components().count() > 1 {
        return is_executable(candidate).then(|| candidate.to_path_buf());
    }
    std::env::split_paths(path?)
        .map(|dir| if dir.as_os_str().is_empty() { ".".into() } else { dir })
        .map(|dir| dir.join(name))
        .find(|full| is_executable(full))
}

/// The error for a binary [`find_binary`] did not find.
pub(crate) fn not_found(name: &str, path: Option<&OsString>) -> crate::RunnerError {
    if std::path::Path::new(name).components().count() > 1 {
        crate::RunnerError::NotExecutable { path: name.to_string() }
    } else {
        crate::RunnerError::BinaryNotFound {
            name: name.to_string(),
            path: path.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

fn is_executable(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| crate::os::is_executable(&meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_uses_fallback_then_own_value() {
        let mut vars = EnvVars::default();
        vars.append("PATH", "/b", ":", Some("/a"));
        assert_eq!(vars.get("PATH"), Some("/a:/b"));
        vars.append("PATH", "/c", ":", Some("/ignored"));
        assert_eq!(vars.get("PATH"), Some("/a:/b:/c"));
        vars.append("NEW", "x", ":", None);
        assert_eq!(vars.get("NEW"), Some("x"));
    }

    #[test]
    fn set_replaces_in_place() {
        let mut vars: EnvVars = [("A", "1"), ("B", "2")].into_iter().collect();
        vars.set("A", "3");
        assert_eq!(vars.iter().collect::<Vec<_>>(), vec![("A", "3"), ("B", "2")]);
    }

    #[test]
    fn finds_binaries_on_path() {
        let path = OsString::from("/nonexistent:/bin:/usr/bin");
        assert!(find_binary("sh", Some(&path)).is_some());
        assert!(find_binary("no-such-binary-tend", Some(&path)).is_none());
        assert!(find_binary("/bin/sh", None).is_some());
    }
}
