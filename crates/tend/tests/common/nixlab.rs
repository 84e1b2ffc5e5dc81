//! Nix for the CLI's tests, offline, per sandbox (as the runner's own tests do): a local flake
//! registry whose `nixpkgs` is a stand-in with the `bashInteractive` that `nix develop` looks
//! up, nix's config in `NIX_CONFIG` (flakes on, no substituters, no sandbox) and nix's XDG
//! folders in the sandbox, and a `nix` first on tend's PATH that logs each run before it runs
//! the real one (to tell whether nix ran).
//!
//! Without nix, [`NixLab::new`] says why and gives `None` (the test is skipped), unless
//! `TEND_REQUIRE_NIX=1`, which makes that a failure.

use std::path::{Path, PathBuf};

use super::Sandbox;

/// One sandbox's nix setup.
pub struct NixLab {
    dir: PathBuf,
    nix: PathBuf,
}

/// The real nix on PATH, or `None` after saying why (a failure under `TEND_REQUIRE_NIX=1`).
pub fn real_nix() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("nix")).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var("TEND_REQUIRE_NIX").as_deref() != Ok("1"),
            "TEND_REQUIRE_NIX=1 but nix is not on PATH"
        );
        eprintln!("nix runs skipped: nix is not installed (`.ci/nix-setup --install` installs it)");
    }
    found
}

impl NixLab {
    /// Sets up nix for every `tend` of `sb`; `None` without nix.
    pub fn new(sb: &Sandbox) -> Option<NixLab> {
        let nix = real_nix()?;
        let lab = NixLab { dir: sb.root().join("nix"), nix };
        let system = tend_runner::nix_system();
        std::fs::create_dir_all(lab.dir.join("nixpkgs")).unwrap();
        std::fs::create_dir_all(lab.dir.join("bin")).unwrap();
        std::fs::write(
            lab.dir.join("nixpkgs/flake.nix"),
            format!(
                r#"{{
  outputs = {{ self }}: {{
    legacyPackages.{system}.bashInteractive = derivation {{
      name = "bash-interactive-stand-in"; system = "{system}"; builder = "/bin/bash";
      args = [ "-c" "set -e; /bin/mkdir -p $out/bin; /bin/ln -s /bin/bash $out/bin/bash; exit 0" ];
    }};
  }};
}}
"#
            ),
        )
        .unwrap();
        let registry = serde_json::json!({"version": 2, "flakes": [{
            "from": {"type": "indirect", "id": "nixpkgs"},
            "to": {"type": "path", "path": lab.dir.join("nixpkgs")},
        }]});
        std::fs::write(lab.dir.join("registry.json"), registry.to_string()).unwrap();
        lab.write_wrapper("");
        let config = format!(
            "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\n\
             substituters =\nflake-registry = {}\n",
            lab.dir.join("registry.json").display()
        );
        sb.set_env("NIX_CONFIG", &config);
        for (var, dir) in [
            ("XDG_CACHE_HOME", "xdg/cache"),
            ("XDG_CONFIG_HOME", "xdg/config"),
            ("XDG_DATA_HOME", "xdg/data"),
            ("XDG_STATE_HOME", "xdg/state"),
        ] {
            sb.set_env(var, &lab.dir.join(dir).to_string_lossy());
        }
        let path = std::env::var("PATH").unwrap_or_default();
        sb.set_env("PATH", &format!("{}:{path}", lab.dir.join("bin").display()));
        Some(lab)
    }

    /// Makes the `nix` tend finds log each run and run `before` (shell code that may refuse
    /// some commands), then the real nix.
    pub fn write_wrapper(&self, before: &str) {
        let path = self.dir.join("bin/nix");
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{log}'\n{before}\nexec '{nix}' \"$@\"\n",
            log = self.dir.join("nix.log").display(),
            nix = self.nix.display()
        );
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Makes `nix print-dev-env` fail: the dev shell cannot be materialised, `nix develop`
    /// still works.
    pub fn refuse_to_materialise(&self) {
        self.write_wrapper(
            r#"case "$1" in print-dev-env) echo "tend test: print-dev-env refused" >&2; exit 1;; esac"#,
        );
    }

    /// How many times `nix print-dev-env` (an evaluation) ran.
    pub fn evaluations(&self) -> usize {
        std::fs::read_to_string(self.dir.join("nix.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("print-dev-env"))
            .count()
    }

    /// Writes `folder/flake.nix`: a dev shell with `FOO=value` and `tend-nix-tool` (built into
    /// the store; it prints `tool-ok`) on its PATH, before `/usr/bin:/bin`.
    pub fn write_flake(&self, folder: &Path, value: &str) {
        let system = tend_runner::nix_system();
        let flake = format!(
            r#"{{
  outputs = {{ self }}: let
    system = "{system}";
    tool = derivation {{
      name = "tend-cli-tool"; inherit system; builder = "/bin/bash";
      args = [ "-c" "set -e; /bin/mkdir -p $out/bin; echo '#!/bin/sh' > $out/bin/tend-nix-tool; echo 'echo tool-ok' >> $out/bin/tend-nix-tool; /bin/chmod +x $out/bin/tend-nix-tool; exit 0" ];
    }};
  in {{
    devShells.${{system}}.default = derivation {{
      name = "tend-cli-shell"; inherit system; builder = "/bin/bash";
      args = [ "-c" "echo > $out; exit 0" ]; outputs = [ "out" ];
      PATH = "${{tool}}/bin:/usr/bin:/bin"; FOO = "{value}";
    }};
  }};
}}
"#
        );
        std::fs::create_dir_all(folder).unwrap();
        std::fs::write(folder.join("flake.nix"), flake).unwrap();
    }
}
