//! The Task Scheduler task definition (MS-TSCH task XML, schema version 1.4) that runs an app at
//! the user's logon, as that user, without elevation. Plain text generation: tested everywhere.

use quick_xml::escape::escape;

use super::{ServiceError, Spec, escape::windows_arg};

/// How long after logon the task starts.
pub const LOGON_DELAY: &str = "PT10S";
/// How long Task Scheduler waits between restarts after a failure.
pub const RESTART_INTERVAL: &str = "PT1M";
/// How many times it restarts a failed task.
pub const RESTART_COUNT: u32 = 3;

/// The task XML for `spec`. `user` is `DOMAIN\name`; an empty one leaves the user out (then
/// Task Scheduler uses the creating user, but a logon trigger for *any* user needs admin
/// rights, so install always passes it).
///
/// # Errors
/// [`ServiceError::NoConfig`] without a launch.
pub fn task_xml(spec: &Spec) -> Result<String, ServiceError> {
    let launch = spec.launch()?;
    let command = launch.windowless.as_ref().unwrap_or(&launch.tend);
    let arguments = format!("up -f {}", windows_arg(&launch.config.to_string_lossy()));
    let user_id = |indent: &str| {
        if spec.user.is_empty() {
            String::new()
        } else {
            format!("{indent}<UserId>{}</UserId>\n", escape(spec.user.as_str()))
        }
    };
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>{description}</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
{trigger_user}      <Delay>{LOGON_DELAY}</Delay>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
{principal_user}      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>{RESTART_INTERVAL}</Interval>
      <Count>{RESTART_COUNT}</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{command}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        description =
            escape(format!("tend: app {} ({})", spec.app, launch.config.display()).as_str()),
        trigger_user = user_id("      "),
        principal_user = user_id("      "),
        command = escape(command.to_string_lossy().as_ref()),
        arguments = escape(arguments.as_str()),
    ))
}

/// `text` as UTF-16LE with a byte-order mark: the encoding the XML declaration names, and the
/// one `schtasks /Create /XML` reads reliably.
pub fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

/// A Windows-looking spec for tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::Spec;
    use std::path::PathBuf;

    pub(crate) fn windows_spec() -> Spec {
        let mut spec = Spec::example(std::path::Path::new("/"));
        spec.user = r"DESKTOP-1\alice".into();
        let launch = spec.launch.as_mut().unwrap();
        launch.tend = PathBuf::from(r"C:\Users\alice\.cargo\bin\tend.exe");
        launch.config = PathBuf::from(r"C:\Users\alice\my apps\demo & co\tend.toml");
        spec
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::windows_spec;
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn task_snapshot() {
        insta::assert_snapshot!(task_xml(&windows_spec()).unwrap());
    }

    #[test]
    fn windowless_binary_preferred() {
        let mut spec = windows_spec();
        spec.launch.as_mut().unwrap().windowless = Some(PathBuf::from(r"C:\bin\tendw.exe"));
        assert!(task_xml(&spec).unwrap().contains(r"<Command>C:\bin\tendw.exe</Command>"));
    }

    #[test]
    fn utf16_has_a_bom() {
        assert_eq!(utf16("<a>"), [0xFF, 0xFE, b'<', 0, b'a', 0, b'>', 0]);
    }
}
