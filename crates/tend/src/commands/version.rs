//! `tend version [--json]`: the build and how it was installed.

use crate::cli::VersionArgs;
use crate::exit::{self, CliError};
use crate::output::Printer;
use tend_update::{BuildInfo, InstallMode};

/// Prints the version, commit, build date, target and install mode.
///
/// # Errors
/// None in practice; the signature matches the other commands.
pub fn show(args: &VersionArgs) -> Result<u8, CliError> {
    let info = BuildInfo::current();
    let mode = InstallMode::detect_current();
    let mut out = Printer::stdout();
    if args.json {
        let mut value = serde_json::json!({
            "version": info.version,
            "commit": info.commit,
            "build_date": info.build_date,
            "target": info.target,
            "install_mode": mode.name(),
        });
        if let InstallMode::Package { manager, command } = &mode {
            value["package_manager"] = manager.clone().into();
            value["upgrade_command"] = command.clone().into();
        }
        out.write(&format!("{value}\n"));
    } else {
        out.write(&format!(
            "tend {} (commit {}, built {}, {})\ninstalled: {}\n",
            info.version,
            info.commit,
            info.build_date,
            info.target,
            describe(&mode)
        ));
    }
    out.flush();
    Ok(exit::SUCCESS)
}

/// The install mode in words.
pub fn describe(mode: &InstallMode) -> String {
    match mode {
        InstallMode::Cargo => "cargo (`tend update` runs cargo install)".into(),
        InstallMode::Binary => "binary (`tend update` replaces it)".into(),
        InstallMode::Package { manager, command } => {
            format!("package, owned by {manager} (upgrade it with `{command}`)")
        }
        InstallMode::Dev => "dev, a build tree (update it with git and cargo build)".into(),
    }
}
