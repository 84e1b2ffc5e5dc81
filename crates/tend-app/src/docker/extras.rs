//! The image extras registry: named sets of packages an image built from `[docker] build` can
//! have (`build.extras = ["python", "ffmpeg"]`), the built-in ones and the user's
//! `[docker.extras.NAME]` tables, resolved in dependency order.
//!
//! Everything here is pure: no file, no daemon, no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One extra: packages from apt and from pip, and the extras it needs first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extra {
    /// Debian/Ubuntu packages (`apt-get install`), like `ffmpeg`.
    pub apt: Vec<String>,
    /// pip requirements, like `torch` or `numpy>=1.26`.
    pub pip: Vec<String>,
    /// The index the `pip` packages come from (`--index-url`); `None`: the default index
    /// (PyPI). Packages from a custom index are installed before those from the default one,
    /// so that the default index cannot replace them (a CPU-only PyTorch by a CUDA one).
    pub pip_index: Option<String>,
    /// Names of the extras this one needs; they come before it.
    pub needs: Vec<String>,
}

impl Extra {
    /// How many packages this extra installs (apt and pip).
    pub fn package_count(&self) -> usize {
        self.apt.len() + self.pip.len()
    }
}

/// Why a set of extras cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtrasError {
    /// A name that is neither built in nor defined in `[docker.extras]`.
    #[error("{}", unknown_message(name, needed_by.as_deref(), known))]
    Unknown {
        /// The unknown name.
        name: String,
        /// The extra whose `needs` names it; `None` when it was asked for directly.
        needed_by: Option<String>,
        /// Every known name, sorted.
        known: Vec<String>,
    },
    /// Extras that need each other in a circle.
    #[error("extras need each other in a cycle: {}; remove one of these needs", cycle.join(" → "))]
    Cycle {
        /// The cycle, its first name repeated at the end: `["a", "b", "a"]`.
        cycle: Vec<String>,
    },
}

fn unknown_message(name: &str, needed_by: Option<&str>, known: &[String]) -> String {
    let by = needed_by.map(|by| format!(" (needed by `{by}`)")).unwrap_or_default();
    format!(
        "unknown extra `{name}`{by}; expected one of: {}, or define it in [docker.extras.{name}]",
        known.join(", ")
    )
}

/// A built-in extra: name, apt packages, pip packages, pip index, needs.
type Builtin = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    Option<&'static str>,
    &'static [&'static str],
);

/// The built-in extras, sorted by name.
const BUILTIN: &[Builtin] = &[
    ("build-tools", &["build-essential", "pkg-config"], &[], None, &[]),
    ("ffmpeg", &["ffmpeg"], &[], None, &[]),
    ("git", &["ca-certificates", "git", "openssh-client"], &[], None, &[]),
    ("node", &["nodejs", "npm"], &[], None, &[]),
    ("python", &["python3", "python3-pip", "python3-venv"], &[], None, &[]),
    (
        "pytorch-cpu",
        &[],
        &["torch", "torchvision", "torchaudio"],
        Some("https://download.pytorch.org/whl/cpu"),
        &["python"],
    ),
    ("tesseract", &["tesseract-ocr", "tesseract-ocr-eng"], &["pytesseract"], None, &["python"]),
];

/// The names of the built-in extras, sorted.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, ..)| *name).collect()
}

/// Every extra an app can use: the built-in ones, and its own (which replace a built-in one of
/// the same name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    extras: BTreeMap<String, Extra>,
    /// The names the user defined, in file order.
    own: Vec<String>,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::builtin()
    }
}

impl Registry {
    /// The built-in extras only.
    pub fn builtin() -> Registry {
        let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        let extras = BUILTIN
            .iter()
            .map(|(name, apt, pip, index, needs)| {
                let extra = Extra {
                    apt: owned(apt),
                    pip: owned(pip),
                    pip_index: index.map(str::to_owned),
                    needs: owned(needs),
                };
                ((*name).to_owned(), extra)
            })
            .collect();
        Registry { extras, own: Vec::new() }
    }

    /// The built-in extras and `own` (in file order), checked: every `needs` names a known
    /// extra, and no extras need each other in a cycle.
    ///
    /// # Errors
    /// [`ExtrasError::Unknown`] for the first unknown name in a `needs` (by file order),
    /// [`ExtrasError::Cycle`] for the first cycle found from the user's extras.
    pub fn with(own: Vec<(String, Extra)>) -> Result<Registry, ExtrasError> {
        let mut registry = Registry::builtin();
        for (name, extra) in own {
            registry.own.retain(|n| *n != name);
            registry.own.push(name.clone());
            registry.extras.insert(name, extra);
        }
        for name in &registry.own {
            for need in &registry.extras[name].needs {
                if !registry.extras.contains_key(need) {
                    return Err(registry.unknown(need, Some(name)));
                }
            }
        }
        for name in &registry.own {
            registry.order(std::slice::from_ref(name))?;
        }
        Ok(registry)
    }

    /// The extra called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Extra> {
        self.extras.get(name)
    }

    /// Whether `name` is one of the user's extras (rather than a built-in one).
    pub fn is_own(&self, name: &str) -> bool {
        self.own.iter().any(|n| n == name)
    }

    /// Every known name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.extras.keys().cloned().collect()
    }

    fn unknown(&self, name: &str, needed_by: Option<&str>) -> ExtrasError {
        ExtrasError::Unknown {
            name: name.to_owned(),
            needed_by: needed_by.map(str::to_owned),
            known: self.names(),
        }
    }

    /// The extras `wanted` and everything they need, each once, every extra after the ones it
    /// needs; otherwise in the order of first mention (depth first), so the result depends
    /// only on `wanted` and the registry.
    ///
    /// # Errors
    /// [`ExtrasError::Unknown`] for a name that is not known, [`ExtrasError::Cycle`] when
    /// extras need each other in a cycle (the cycle is named).
    pub fn resolve(&self, wanted: &[String]) -> Result<Vec<(&str, &Extra)>, ExtrasError> {
        let names = self.order(wanted)?;
        Ok(names.into_iter().map(|name| (name, &self.extras[name])).collect())
    }

    fn order(&self, wanted: &[String]) -> Result<Vec<&str>, ExtrasError> {
        let mut done = Vec::new();
        let mut seen = BTreeSet::new();
        for name in wanted {
            let mut path = Vec::new();
            self.visit(name, None, &mut path, &mut seen, &mut done)?;
        }
        Ok(done)
    }

    /// Depth first: `path` is the chain of extras being visited (to name a cycle), `seen` the
    /// ones already placed in `done`.
    fn visit<'a>(
        &'a self,
        name: &str,
        needed_by: Option<&str>,
        path: &mut Vec<&'a str>,
        seen: &mut BTreeSet<&'a str>,
        done: &mut Vec<&'a str>,
    ) -> Result<(), ExtrasError> {
        let Some((name, extra)) = self.extras.get_key_value(name) else {
            return Err(self.unknown(name, needed_by));
        };
        let name = name.as_str();
        if seen.contains(name) {
            return Ok(());
        }
        if let Some(at) = path.iter().position(|n| *n == name) {
            let mut cycle: Vec<String> = path[at..].iter().map(|n| (*n).to_owned()).collect();
            cycle.push(name.to_owned());
            return Err(ExtrasError::Cycle { cycle });
        }
        path.push(name);
        for need in &extra.needs {
            self.visit(need, Some(name), path, seen, done)?;
        }
        path.pop();
        seen.insert(name);
        done.push(name);
        Ok(())
    }
}

/// The build timeout of an image without extras (see [`build_timeout`]).
pub const BUILD_TIMEOUT_BASE: Duration = Duration::from_secs(300);
/// What each extra adds to the build timeout, whatever its size.
pub const BUILD_TIMEOUT_PER_EXTRA: Duration = Duration::from_secs(60);
/// What each package of an extra (apt or pip) adds to the build timeout.
pub const BUILD_TIMEOUT_PER_PACKAGE: Duration = Duration::from_secs(30);

/// How long building an image with `extras` (resolved, see [`Registry::resolve`]) may take:
/// [`BUILD_TIMEOUT_BASE`] (5 min), plus for each extra [`BUILD_TIMEOUT_PER_EXTRA`] (1 min)
/// and [`BUILD_TIMEOUT_PER_PACKAGE`] (30 s) per package. A build with no extras has 5 min;
/// with `python` (3 packages), 5 + 1 + 1.5 = 7.5 min.
pub fn build_timeout(extras: &[(&str, &Extra)]) -> Duration {
    extras.iter().fold(BUILD_TIMEOUT_BASE, |total, (_, extra)| {
        let packages = u32::try_from(extra.package_count()).unwrap_or(u32::MAX);
        total
            .saturating_add(BUILD_TIMEOUT_PER_EXTRA)
            .saturating_add(BUILD_TIMEOUT_PER_PACKAGE.saturating_mul(packages))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn extra(needs: &[&str]) -> Extra {
        Extra { needs: needs.iter().map(|s| (*s).to_owned()).collect(), ..Extra::default() }
    }

    fn names(wanted: &[&str]) -> Vec<String> {
        wanted.iter().map(|s| (*s).to_owned()).collect()
    }

    fn resolved(registry: &Registry, wanted: &[&str]) -> Vec<String> {
        let list = registry.resolve(&names(wanted)).unwrap();
        list.into_iter().map(|(name, _)| name.to_owned()).collect()
    }

    #[test]
    fn builtins_are_consistent() {
        let registry = Registry::builtin();
        assert_eq!(
            registry.names(),
            ["build-tools", "ffmpeg", "git", "node", "python", "pytorch-cpu", "tesseract"]
        );
        assert_eq!(builtin_names(), registry.names(), "BUILTIN is kept sorted");
        // Every built-in resolves: its needs are known and acyclic.
        for name in registry.names() {
            registry.resolve(std::slice::from_ref(&name)).unwrap();
        }
        assert_eq!(Registry::with(Vec::new()).unwrap(), registry);
    }

    #[test]
    fn needs_come_first_each_once_in_first_mention_order() {
        let registry = Registry::with(vec![
            ("app".into(), extra(&["ml", "git"])),
            ("ml".into(), extra(&["pytorch-cpu", "build-tools"])),
        ])
        .unwrap();
        assert_eq!(
            resolved(&registry, &["ffmpeg", "app", "python"]),
            ["ffmpeg", "python", "pytorch-cpu", "build-tools", "ml", "git", "app"]
        );
        assert_eq!(resolved(&registry, &["python", "python"]), ["python"]);
        assert!(resolved(&registry, &[]).is_empty());
    }

    #[test]
    fn own_extras_replace_builtins() {
        let mine = Extra { apt: vec!["python3-full".into()], ..Extra::default() };
        let registry = Registry::with(vec![("python".into(), mine.clone())]).unwrap();
        assert_eq!(registry.get("python"), Some(&mine));
        assert!(registry.is_own("python") && !registry.is_own("git"));
        // pytorch-cpu still needs python: now the user's.
        let list = registry.resolve(&names(&["pytorch-cpu"])).unwrap();
        assert_eq!(list[0], ("python", &mine));
    }

    #[test]
    fn unknown_names_are_named() {
        let registry = Registry::builtin();
        let error = registry.resolve(&names(&["git", "pyton"])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown extra `pyton`; expected one of: build-tools, ffmpeg, git, node, python, \
             pytorch-cpu, tesseract, or define it in [docker.extras.pyton]"
        );
        let error = Registry::with(vec![("a".into(), extra(&["git", "nope"]))]).unwrap_err();
        assert!(
            matches!(&error, ExtrasError::Unknown { name, needed_by: Some(by), .. } if name == "nope" && by == "a"),
            "{error:?}"
        );
        assert!(error.to_string().starts_with("unknown extra `nope` (needed by `a`); "), "{error}");
    }

    #[test]
    fn cycles_are_named() {
        let error = Registry::with(vec![
            ("a".into(), extra(&["git", "b"])),
            ("b".into(), extra(&["c"])),
            ("c".into(), extra(&["a"])),
        ])
        .unwrap_err();
        assert_eq!(error, ExtrasError::Cycle { cycle: names(&["a", "b", "c", "a"]) });
        assert_eq!(
            error.to_string(),
            "extras need each other in a cycle: a → b → c → a; remove one of these needs"
        );
        let error = Registry::with(vec![("a".into(), extra(&["a"]))]).unwrap_err();
        assert_eq!(error, ExtrasError::Cycle { cycle: names(&["a", "a"]) });
        // Through a built-in that needs an extra the user replaced.
        let error = Registry::with(vec![("python".into(), extra(&["pytorch-cpu"]))]).unwrap_err();
        assert_eq!(
            error,
            ExtrasError::Cycle { cycle: names(&["python", "pytorch-cpu", "python"]) }
        );
    }

    #[test]
    fn a_diamond_is_no_cycle() {
        let registry = Registry::with(vec![
            ("top".into(), extra(&["left", "right"])),
            ("left".into(), extra(&["base"])),
            ("right".into(), extra(&["base"])),
            ("base".into(), extra(&[])),
        ])
        .unwrap();
        assert_eq!(resolved(&registry, &["top"]), ["base", "left", "right", "top"]);
    }

    #[test]
    fn the_build_timeout_grows_with_each_extra() {
        let registry = Registry::builtin();
        let timeout = |wanted: &[&str]| build_timeout(&registry.resolve(&names(wanted)).unwrap());
        assert_eq!(timeout(&[]), Duration::from_secs(300));
        assert_eq!(timeout(&["ffmpeg"]), Duration::from_secs(300 + 60 + 30));
        assert_eq!(timeout(&["python"]), Duration::from_secs(300 + 60 + 90));
        // pytorch-cpu brings python: two extras, six packages.
        assert_eq!(timeout(&["pytorch-cpu"]), Duration::from_secs(300 + 2 * 60 + 6 * 30));
        assert!(timeout(&["pytorch-cpu", "git"]) > timeout(&["pytorch-cpu"]));
        // An extra without packages still counts.
        let empty = Extra::default();
        assert_eq!(build_timeout(&[("e", &empty)]), Duration::from_secs(360));
    }
}
