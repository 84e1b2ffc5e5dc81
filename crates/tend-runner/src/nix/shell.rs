//! A dev shell's environment as `nix print-dev-env --json` gives it ([`ShellEnv`]), and how it
//! is laid over a program's variables ([`ShellEnv::apply`]). Pure.

use serde::{Deserialize, Serialize};

use crate::EnvVars;

/// The variables `nix develop` does not take from the dev shell: build-time values, and the
/// user's own (`HOME`, `TMPDIR`, `TERM`, `TZ`…), which the program keeps from tend's
/// environment.
pub const DROPPED: &[&str] = &[
    "BASHOPTS",
    "HOME",
    "NIX_BUILD_TOP",
    "NIX_ENFORCE_PURITY",
    "NIX_LOG_FD",
    "NIX_REMOTE",
    "PPID",
    "SHELLOPTS",
    "SSL_CERT_FILE",
    "TEMP",
    "TEMPDIR",
    "TERM",
    "TMP",
    "TMPDIR",
    "TZ",
    "UID",
];

/// The PATH a dev shell has when its derivation sets none.
const PATH_NOT_SET: &str = "/path-not-set";

/// A materialised dev shell: the variables it exports (less [`DROPPED`]) and its PATH, kept
/// apart to be put before the program's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellEnv {
    /// The exported variables, PATH excepted, sorted by name.
    pub vars: Vec<(String, String)>,
    /// The shell's PATH; `None` when it sets none.
    pub path: Option<String>,
}

#[derive(Deserialize)]
struct Printed {
    variables: std::collections::BTreeMap<String, Variable>,
}

#[derive(Deserialize)]
struct Variable {
    #[serde(rename = "type")]
    kind: String,
    value: serde_json::Value,
}

impl ShellEnv {
    /// Reads `nix print-dev-env --json` output: the variables of type `exported` whose value
    /// is a string (shell-local `var`s, arrays and functions are not part of a process's
    /// environment), less [`DROPPED`].
    ///
    /// # Errors
    /// The text is not that JSON.
    pub fn parse(json: &[u8]) -> Result<ShellEnv, serde_json::Error> {
        let printed: Printed = serde_json::from_slice(json)?;
        let mut env = ShellEnv::default();
        for (name, var) in printed.variables {
            let serde_json::Value::String(value) = var.value else { continue };
            if var.kind != "exported" || DROPPED.contains(&name.as_str()) {
                continue;
            }
            if name == "PATH" {
                env.path = (value != PATH_NOT_SET && !value.is_empty()).then_some(value);
            } else {
                env.vars.push((name, value));
            }
        }
        Ok(env)
    }

    /// The variables a program gets on top of tend's own environment: the shell's, then the
    /// program's own (`spec`: they win, as configured values), and PATH = the shell's PATH,
    /// then the PATH the program would otherwise have (`spec`'s, else `outer`, tend's).
    pub fn apply(&self, spec: &EnvVars, outer_path: Option<&str>) -> EnvVars {
        let mut vars: EnvVars = self.vars.iter().cloned().collect();
        for (k, v) in spec.iter().filter(|(k, _)| *k != "PATH") {
            vars.set(k, v);
        }
        let path = merge_path(self.path.as_deref(), spec.get("PATH").or(outer_path));
        if let Some(path) = path {
            vars.set("PATH", path);
        }
        vars
    }
}

/// `shell:outer`, either alone when the other is missing or empty.
pub fn merge_path(shell: Option<&str>, outer: Option<&str>) -> Option<String> {
    match (shell.filter(|s| !s.is_empty()), outer.filter(|s| !s.is_empty())) {
        (Some(shell), Some(outer)) => Some(format!("{shell}:{outer}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = r#"{"bashFunctions":{"f":"echo"},"variables":{
        "BASH":{"type":"var","value":"/usr/bin/bash"},
        "FOO":{"type":"exported","value":"bar"},
        "EMPTY":{"type":"exported","value":""},
        "HOME":{"type":"exported","value":"/homeless-shelter"},
        "TMPDIR":{"type":"exported","value":"/tmp/nix-build"},
        "TERM":{"type":"exported","value":"xterm"},
        "NIX_BUILD_TOP":{"type":"exported","value":"/tmp/nix-build"},
        "PATH":{"type":"exported","value":"/nix/store/x/bin"},
        "arr":{"type":"array","value":["a"]},
        "NUM":{"type":"exported","value":3}}}"#;

    #[test]
    fn keeps_exported_strings_less_the_dropped() {
        let env = ShellEnv::parse(PRINTED.as_bytes()).unwrap();
        assert_eq!(env.vars, vec![("EMPTY".into(), String::new()), ("FOO".into(), "bar".into())]);
        assert_eq!(env.path.as_deref(), Some("/nix/store/x/bin"));
    }

    #[test]
    fn path_not_set_is_no_path() {
        let json = r#"{"variables":{"PATH":{"type":"exported","value":"/path-not-set"}}}"#;
        let env = ShellEnv::parse(json.as_bytes()).unwrap();
        assert_eq!(env.path, None);
        let applied = env.apply(&EnvVars::default(), Some("/usr/bin"));
        assert_eq!(applied.get("PATH"), Some("/usr/bin"));
    }

    #[test]
    fn shell_path_comes_first_and_program_vars_win() {
        let env = ShellEnv::parse(PRINTED.as_bytes()).unwrap();
        let spec: EnvVars = [("FOO", "mine"), ("X", "1")].into_iter().collect();
        let applied = env.apply(&spec, Some("/usr/bin:/bin"));
        assert_eq!(applied.get("FOO"), Some("mine"));
        assert_eq!(applied.get("X"), Some("1"));
        assert_eq!(applied.get("PATH"), Some("/nix/store/x/bin:/usr/bin:/bin"));
        assert_eq!(applied.get("HOME"), None, "HOME stays tend's own");
        let with_path: EnvVars = [("PATH", "/opt/bin")].into_iter().collect();
        let applied = env.apply(&with_path, Some("/usr/bin"));
        assert_eq!(applied.get("PATH"), Some("/nix/store/x/bin:/opt/bin"));
    }

    #[test]
    fn merge_path_cases() {
        assert_eq!(merge_path(None, None), None);
        assert_eq!(merge_path(Some(""), Some("/b")).as_deref(), Some("/b"));
        assert_eq!(merge_path(Some("/a"), None).as_deref(), Some("/a"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(ShellEnv::parse(b"not json").is_err());
        assert!(ShellEnv::parse(b"{}").is_err());
    }
}
