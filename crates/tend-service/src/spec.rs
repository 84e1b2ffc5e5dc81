//! The inputs of every service definition, gathered once ([`Spec::for_app`],
//! [`Spec::with_launch`]) so that the generators stay pure. What only tend knows (the app's
//! name, `TEND_HOME`, the app's state folder, the tend binary, the app's tend.toml) is passed in
//! as plain data; the rest (the user's home, name and id, `PATH`) is read from the system here.

use std::path::{Path, PathBuf};

use super::{ServiceError, paths};

/// Everything the backends need to know about the app and the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The app's name (`[A-Za-z0-9][A-Za-z0-9._-]*`).
    pub app: String,
    /// The user's home folder (`HOME`).
    pub home: PathBuf,
    /// `XDG_CONFIG_HOME`, or `~/.config`: where systemd looks for user units.
    pub config_home: PathBuf,
    /// `TEND_HOME`.
    pub tend_home: PathBuf,
    /// The app's state folder: `$TEND_HOME/apps/<app>`.
    pub state_dir: PathBuf,
    /// The user's login name.
    pub user: String,
    /// The user's numeric id (launchd's `gui/<uid>` domain); 0 where there is none.
    pub uid: u32,
    /// How to start the app; `None` when the app was named without its tend.toml.
    pub launch: Option<Launch>,
}

/// How the service starts the app: `<tend> up -f <tend.toml>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The absolute path of the tend binary.
    pub tend: PathBuf,
    /// A windowless variant of it next to it (`tendw.exe`), where one exists.
    pub windowless: Option<PathBuf>,
    /// The absolute path of the app's tend.toml.
    pub config: PathBuf,
    /// The `PATH` the service gets.
    pub path: Vec<PathBuf>,
}

impl Launch {
    /// How to start the app: `tend` is the absolute path of the tend binary, `config` the
    /// absolute path of the app's tend.toml. A windowless `tendw` next to `tend` is used where
    /// there is one; the `PATH` is the folder of `tend`, then the current `PATH`, then the
    /// toolchain folders found under `home` ([`paths::service_path`]).
    pub fn new(tend: PathBuf, config: PathBuf, home: &Path) -> Launch {
        let windowless = tend
            .parent()
            .map(|dir| dir.join(format!("tendw{}", std::env::consts::EXE_SUFFIX)))
            .filter(|p| p.is_file());
        let bin_dir = tend.parent().map(Path::to_path_buf);
        let current = std::env::var_os("PATH");
        let found = paths::discover(home);
        let path = paths::service_path(bin_dir.as_deref(), current.as_deref(), &found);
        Launch { tend, windowless, config, path }
    }
}

impl Spec {
    /// `$TEND_HOME/apps/<app>/logs`.
    pub fn logs(&self) -> PathBuf {
        self.state_dir.join("logs")
    }

    /// The service of the app named `app` (enough to query, stop or remove it): `tend_home` is
    /// `TEND_HOME`, `state_dir` the app's state folder in it (`$TEND_HOME/apps/<app>`). The
    /// user's home (`HOME`), `XDG_CONFIG_HOME`, name and id come from the system. No launch:
    /// add one with [`Spec::with_launch`] to install or show the service.
    ///
    /// # Errors
    /// [`ServiceError::Unavailable`] when the user's home folder is unknown.
    pub fn for_app(app: &str, tend_home: &Path, state_dir: &Path) -> Result<Spec, ServiceError> {
        let home = std::env::home_dir().filter(|h| !h.as_os_str().is_empty()).ok_or_else(|| {
            ServiceError::Unavailable("cannot find your home folder: set HOME".into())
        })?;
        let config_home = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(".config"));
        let (user, uid) = super::exec::current_user();
        Ok(Spec {
            app: app.to_string(),
            home,
            config_home,
            tend_home: tend_home.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            user,
            uid,
            launch: None,
        })
    }

    /// The same spec, started as `<tend> up -f <config>` (see [`Launch::new`]).
    pub fn with_launch(mut self, tend: PathBuf, config: PathBuf) -> Spec {
        self.launch = Some(Launch::new(tend, config, &self.home));
        self
    }

    /// A fixed spec for tests and examples: app `demo` of user `alice` (uid 501), with every
    /// path under `root`.
    pub fn example(root: &Path) -> Spec {
        let home = root.join("home").join("alice");
        let tend_home = home.join(".tend");
        Spec {
            app: "demo".into(),
            config_home: home.join(".config"),
            state_dir: tend_home.join("apps").join("demo"),
            tend_home,
            user: "alice".into(),
            uid: 501,
            launch: Some(Launch {
                tend: home.join(".cargo").join("bin").join("tend"),
                windowless: None,
                config: home.join("apps").join("demo").join("tend.toml"),
                path: vec![
                    home.join(".cargo").join("bin"),
                    "/usr/local/bin".into(),
                    "/usr/bin".into(),
                    "/bin".into(),
                ],
            }),
            home,
        }
    }

    pub(crate) fn launch(&self) -> Result<&Launch, ServiceError> {
        self.launch.as_ref().ok_or(ServiceError::NoConfig)
    }
}
