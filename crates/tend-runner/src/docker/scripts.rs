//! The small POSIX shell scripts tend runs inside the container, and the command lines that run
//! them. Pure: text and argv only. None of them ever carries a variable's value: values go
//! through the exec API's `Env`.
//!
//! Every exec is made its own session and process group by the runtime (runc), so a script's
//! own helpers (`$(…)` subshells, `grep`) are told apart by their process group (`$$`).

/// The first word of the keep-alive's arguments, which the sweep spares.
pub(crate) const KEEPALIVE_NAME: &str = "tend-keepalive";

/// The container's main process: it blocks for ever (reading a stdin that is kept open, with a
/// sleep loop should it close) and exits at once on TERM, also as PID 1 (without an init).
const KEEPALIVE: &str = r#"trap 'exit 0' TERM INT HUP; while :; do read -r _ || sleep 3600; done"#;

/// The run wrapper (after [`MEMBERS`]): starts the program as the leader of a session and
/// process group of its own (`setsid`), with the run token as `TEND_RUN_ID` (the wrapper
/// itself carries it only as `TEND_WRAP_TOKEN`, so that a stop never takes it for a member),
/// and reports on its first stdout line `tend-pid <pid>` (the program's pid inside the
/// container, the id of its group), or `tend-missing <PATH>` when the program cannot be found.
/// The pid line is printed by the process that then becomes the program (`setsid` does not fork
/// a process that leads no group), so it always comes before the program's own output.
/// When the program has ended, it ends what the run left — signal `$1`, up to `$2` tenths of a
/// second, then SIGKILL — and exits with the program's status: the end of the exec is the end
/// of the whole run, with no second exec to clean up. The program's arguments are positional
/// parameters, never interpolated. (An asynchronous list's stdin is /dev/null: the program
/// gets the exec's through fd 3. The wrapper's own stderr goes to /dev/null once the program
/// runs, so the shell's `Killed`-style job reports never mix with the program's output.)
const WRAPPER: &str = r#"sig=$1 tenths=$2; shift 2
case $1 in
*/*) [ -f "$1" ] && [ -x "$1" ] ;;
*) command -v "$1" >/dev/null 2>&1 ;;
esac || { printf 'tend-missing %s\n' "$PATH"; exit 127; }
TEND_STOP_TOKEN=$TEND_WRAP_TOKEN
exec 3<&0
(unset TEND_WRAP_TOKEN; TEND_RUN_ID=$TEND_STOP_TOKEN; export TEND_RUN_ID
 exec /bin/sh -c 'printf "tend-pid %s\n" "$$"; exec setsid "$@"' tend-start "$@" 0<&3 3<&-) &
pgid=$!
exec 3<&- 2>/dev/null
wait "$pgid"
code=$?
left=$(members)
if [ -n "$left" ]; then
  for p in $left; do kill -"$sig" "$p" 2>/dev/null; done
  i=0
  while [ "$i" -lt "$tenths" ]; do
    left=$(members)
    [ -z "$left" ] && break
    sleep 0.1
    i=$((i+1))
  done
  for p in $(members); do kill -9 "$p" 2>/dev/null; done
fi
exit "$code""#;

/// The variable that carries the run token into the wrapper (see [`WRAPPER`]).
pub(crate) const WRAP_TOKEN_VAR: &str = "TEND_WRAP_TOKEN";

/// Lists the live processes of a run (`$members`): those in process group `$pgid`, and those
/// carrying its token (`TEND_RUN_ID=$TEND_STOP_TOKEN` in their environment).
const MEMBERS: &str = r#"me=$$
members() {
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$me" ] && continue
    { read -r st < "$d/stat"; } 2>/dev/null || continue
    set -- ${st##*) }
    [ "$1" = Z ] && continue
    [ "$3" = "$me" ] && continue
    if [ "$3" = "$pgid" ] || grep -qs "TEND_RUN_ID=$TEND_STOP_TOKEN" "$d/environ"; then echo "$p"; fi
  done
}
"#;

/// Stops a run: the signal `$1` to its group (as a whole when `$4` is 1: its leader is still
/// ours) and to every member, up to `$2` tenths of a second for them to go, then SIGKILL to
/// what is left. Prints `killed <n>` and `survivors <pids…>`.
const STOP: &str = r#"sig=$1 tenths=$2 pgid=$3 whole=$4
[ "$whole" = 1 ] && kill -"$sig" -"$pgid" 2>/dev/null
sent=
for p in $(members); do kill -"$sig" "$p" 2>/dev/null; sent="$sent $p"; done
i=0
while [ "$i" -lt "$tenths" ]; do
  left=$(members)
  [ -z "$left" ] && break
  for p in $left; do
    case " $sent " in *" $p "*) ;; *) kill -"$sig" "$p" 2>/dev/null; sent="$sent $p" ;; esac
  done
  sleep 0.1
  i=$((i+1))
done
killed=0
left=$(members)
for p in $left; do kill -9 "$p" 2>/dev/null && killed=$((killed+1)); done
i=0
while [ -n "$left" ] && [ "$i" -lt 20 ]; do
  sleep 0.1
  left=$(members)
  for p in $left; do kill -9 "$p" 2>/dev/null; done
  i=$((i+1))
done
echo "killed $killed"
echo "survivors" $left
"#;

/// Ends every process of a reused container but its init, its keep-alive and this script's
/// own: what runs there then was left by an earlier tend's runs. TERM, up to `$1` tenths of a
/// second, then SIGKILL. Prints `ended <n>` and `survivors <pids…>`.
const SWEEP: &str = r#"me=$$ tenths=$1
others() {
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = 1 ] || [ "$p" = "$me" ] && continue
    { read -r st < "$d/stat"; } 2>/dev/null || continue
    set -- ${st##*) }
    [ "$1" = Z ] && continue
    [ "$3" = "$me" ] && continue
    grep -qs tend-keepalive "$d/cmdline" && continue
    echo "$p"
  done
}
left=$(others)
ended=0
for p in $left; do kill -15 "$p" 2>/dev/null && ended=$((ended+1)); done
i=0
while [ -n "$left" ] && [ "$i" -lt "$tenths" ]; do sleep 0.1; left=$(others); i=$((i+1)); done
for p in $left; do kill -9 "$p" 2>/dev/null; done
[ -n "$left" ] && sleep 0.2
echo "ended $ended"
echo "survivors" $(others)
"#;

/// Checks that the image has what the scripts need; prints what is missing.
const PROBE: &str = r#"for t in grep sleep setsid; do command -v "$t" >/dev/null 2>&1 || printf '%s ' "no $t"; done
[ -r /proc/self/stat ] || printf '%s ' "no /proc"
echo"#;

fn sh(script: &str, name: &str, args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut argv = vec!["/bin/sh".to_string(), "-c".to_string(), script.to_string(), name.into()];
    argv.extend(args);
    argv
}

/// The container's entrypoint.
pub(crate) fn keepalive() -> Vec<String> {
    sh(KEEPALIVE, KEEPALIVE_NAME, [])
}

/// The exec command of a run of `argv`, whose leftovers get `signal`, then `grace`, then
/// SIGKILL once it has ended (the token goes in the exec's [`WRAP_TOKEN_VAR`]).
pub(crate) fn run(argv: &[String], signal: i32, grace: std::time::Duration) -> Vec<String> {
    let script = format!("{MEMBERS}{WRAPPER}");
    let head = [signal.to_string(), tenths(grace).to_string()];
    sh(&script, "tend-run", head.into_iter().chain(argv.iter().cloned()))
}

/// The exec command that stops the run whose group is `pgid` (the token goes in the exec's
/// `TEND_STOP_TOKEN`).
pub(crate) fn stop(signal: i32, grace: std::time::Duration, pgid: u32, whole: bool) -> Vec<String> {
    let script = format!("{MEMBERS}{STOP}");
    sh(
        &script,
        "tend-stop",
        [
            signal.to_string(),
            tenths(grace).to_string(),
            pgid.to_string(),
            u8::from(whole).to_string(),
        ],
    )
}

/// The exec command that sweeps a reused container.
pub(crate) fn sweep(grace: std::time::Duration) -> Vec<String> {
    sh(SWEEP, "tend-sweep", [tenths(grace).to_string()])
}

/// The exec command that checks the image.
pub(crate) fn probe() -> Vec<String> {
    sh(PROBE, "tend-probe", [])
}

fn tenths(grace: std::time::Duration) -> u128 {
    grace.as_millis().div_ceil(100)
}

/// What the wrapper's first line says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Started {
    /// The program runs with this pid inside the container.
    Pid(u32),
    /// The program was not found on this PATH.
    Missing(String),
}

/// Reads the wrapper's first line.
pub(crate) fn parse_started(line: &str) -> Option<Started> {
    if let Some(pid) = line.strip_prefix("tend-pid ") {
        return pid.trim().parse().ok().map(Started::Pid);
    }
    line.strip_prefix("tend-missing ").map(|path| Started::Missing(path.to_string()))
}

/// A stop script's report: how many needed SIGKILL, and the survivors.
pub(crate) fn parse_stop(output: &str) -> (usize, Vec<u32>) {
    let mut killed = 0;
    let mut survivors = Vec::new();
    for line in output.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("killed" | "ended") => {
                killed = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            }
            Some("survivors") => survivors = words.filter_map(|p| p.parse().ok()).collect(),
            _ => {}
        }
    }
    (killed, survivors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_arguments_positionally() {
        let argv =
            run(&["echo".into(), "$HOME; rm -rf /".into()], 15, std::time::Duration::from_secs(2));
        assert_eq!(&argv[..2], &["/bin/sh", "-c"]);
        assert_eq!(&argv[3..], &["tend-run", "15", "20", "echo", "$HOME; rm -rf /"]);
        let stop = stop(15, std::time::Duration::from_millis(1050), 7, true);
        assert_eq!(&stop[3..], &["tend-stop", "15", "11", "7", "1"]);
        assert!(keepalive().contains(&KEEPALIVE_NAME.to_string()));
    }

    #[test]
    fn parses_reports() {
        assert_eq!(parse_started("tend-pid 12"), Some(Started::Pid(12)));
        assert_eq!(
            parse_started("tend-missing /bin:/usr/bin"),
            Some(Started::Missing("/bin:/usr/bin".into()))
        );
        assert_eq!(parse_started("hello"), None);
        assert_eq!(parse_stop("killed 2\nsurvivors 5 6\n"), (2, vec![5, 6]));
        assert_eq!(parse_stop("ended 1\nsurvivors\n"), (1, vec![]));
    }

    /// The scripts are valid POSIX shell (checked by the machine's /bin/sh without running).
    #[cfg(unix)]
    #[test]
    fn scripts_parse() {
        for script in
            [KEEPALIVE, &format!("{MEMBERS}{WRAPPER}"), &format!("{MEMBERS}{STOP}"), SWEEP, PROBE]
        {
            let status =
                std::process::Command::new("/bin/sh").args(["-n", "-c", script]).status().unwrap();
            assert!(status.success(), "{script}");
        }
    }
}
