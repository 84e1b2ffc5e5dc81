//! One `[programs.NAME]` table: its command, environment, restart policy, backoff, stop and
//! watch settings.

use super::*;

impl Ctx<'_> {
    pub(super) fn program(
        &self,
        field: &Field<'_, '_>,
        log: LogConfig,
    ) -> Result<ProgramConfig, ConfigError> {
        if !is_valid_name(field.name) {
            return Err(self.at_key(
                field,
                format!("invalid program name {:?}", field.name),
                NAME_EXPECTED,
            ));
        }
        let table = self.table(
            field,
            Some(PROGRAM_KEYS),
            &format!(r#"expected a table, like [{}] with command = "...""#, field.path),
        )?;
        let Some(command) = table.get("command") else {
            return Err(self.at_key(
                field,
                "missing key `command`",
                r#"expected the program to run, like command = "python3 app.py""#,
            ));
        };
        let mut program =
            ProgramConfig::new(field.name, self.command(command)?, self.folder.clone());
        program.log = log;
        for field in &table.fields {
            match field.name {
                "dir" => {
                    let dir = self.nonempty_string(
                        field,
                        r#"expected a folder relative to tend.toml, like "web""#,
                    )?;
                    program.dir = self.resolve(dir);
                }
                "env" => program.env = self.env(field)?,
                "env_files" => program.env_files = self.env_files(field)?,
                "runner" => {
                    let expected = "expected one of: native, docker, nix, auto";
                    let name = self.string(field, expected)?;
                    program.runner = Runner::from_name(name).ok_or_else(|| {
                        self.at_value(field, format!("unknown runner {name:?}"), expected)
                    })?;
                }
                "restart" => {
                    let expected = "expected one of: always, on-failure, never";
                    let name = self.string(field, expected)?;
                    program.restart = name.parse::<RestartPolicy>().map_err(|_| {
                        self.at_value(field, format!("unknown restart policy {name:?}"), expected)
                    })?;
                }
                "restart_exit_code" => program.restart_exit_code = self.restart_exit_code(field)?,
                "log" => program.log = self.log(field, log)?,
                // `command` is done; `backoff`, `max_restarts`, `stop` and `watch` come after
                // the loop, as `watch` depends on `dir`.
                _ => {}
            }
        }
        if let Some(field) = table.get("backoff") {
            program.backoff = self.backoff(field)?;
        }
        if let Some(field) = table.get("max_restarts") {
            program.max_restarts = self.max_restarts(field)?;
        }
        if let Some(field) = table.get("stop") {
            program.stop = self.stop(field)?;
        }
        if let Some(field) = table.get("watch") {
            program.watch = self.watch(field, &program.dir)?;
        }
        Ok(program)
    }

    pub(super) fn command(&self, field: &Field<'_, '_>) -> Result<Vec<String>, ConfigError> {
        let empty_program = r#"expected the program to run first, like "python3""#;
        match field.value.get_ref() {
            DeValue::String(_) => {
                let text = self.string(field, COMMAND_EXPECTED)?;
                let Some(words) = shlex::split(text) else {
                    return Err(self.at_value(
                        field,
                        format!("cannot split command {text:?}: unterminated quote or trailing backslash"),
                        "expected balanced quotes, or an array of arguments",
                    ));
                };
                match words.first() {
                    None => return Err(self.at_value(field, "empty command", COMMAND_EXPECTED)),
                    Some(first) if first.trim().is_empty() => {
                        return Err(self.at_value(field, "empty program name", empty_program));
                    }
                    Some(_) => {}
                }
                if let Some(operator) = text
                    .split_whitespace()
                    .find(|word| SHELL_OPERATORS.contains(word))
                    .filter(|operator| words.iter().any(|word| word == operator))
                {
                    return Err(self.at_value(
                        field,
                        format!("`{operator}` is shell syntax, but commands run without a shell"),
                        format!("expected plain arguments; for a shell use command = [\"sh\", \"-c\", {text:?}]"),
                    ));
                }
                Ok(words)
            }
            DeValue::Array(_) => {
                let items = self.items(field, COMMAND_EXPECTED)?;
                if items.is_empty() {
                    return Err(self.at_value(field, "empty command", COMMAND_EXPECTED));
                }
                let mut words = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let word = self.string(item, "expected a string")?;
                    if i == 0 && word.trim().is_empty() {
                        return Err(self.at_value(item, "empty program name", empty_program));
                    }
                    words.push(word.to_owned());
                }
                Ok(words)
            }
            _ => Err(self.wrong_type(field, COMMAND_EXPECTED)),
        }
    }

    pub(super) fn env(
        &self,
        field: &Field<'_, '_>,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let expected = r#"expected a table of strings, like env = { PORT = "8000" }"#;
        let value_expected = r#"expected a string, like PORT = "8000""#;
        let table = self.table(field, None, expected)?;
        let mut env = BTreeMap::new();
        for var in &table.fields {
            if var.name.is_empty() || var.name.contains(['=', '\0']) {
                return Err(self.at_key(
                    var,
                    format!("invalid variable name {:?}", var.name),
                    "expected a name without '=', like PORT",
                ));
            }
            let value = match var.value.get_ref() {
                DeValue::String(_) => self.string(var, value_expected)?.to_owned(),
                DeValue::Integer(_) => self.integer(var, value_expected)?.to_string(),
                DeValue::Float(float) => float.as_str().to_owned(),
                DeValue::Boolean(boolean) => boolean.to_string(),
                _ => return Err(self.wrong_type(var, value_expected)),
            };
            env.insert(var.name.to_owned(), value);
        }
        Ok(env)
    }

    pub(super) fn restart_exit_code(
        &self,
        field: &Field<'_, '_>,
    ) -> Result<Option<i32>, ConfigError> {
        let expected = "expected an exit code from 1 to 255, like 42, or false to turn it off";
        match field.value.get_ref() {
            DeValue::Boolean(false) => Ok(None),
            DeValue::Boolean(true) => {
                Err(self.at_value(field, "true is not an exit code", expected))
            }
            _ => {
                let code = self.integer(field, expected)?;
                match i32::try_from(code) {
                    Ok(code @ 1..=255) => Ok(Some(code)),
                    _ => Err(self.at_value(
                        field,
                        format!("exit code {code} is out of range"),
                        expected,
                    )),
                }
            }
        }
    }

    pub(super) fn backoff(&self, field: &Field<'_, '_>) -> Result<Backoff, ConfigError> {
        let table = self.table(
            field,
            Some(BACKOFF_KEYS),
            r#"expected a table, like backoff = { initial = "1s", max = "1m" }"#,
        )?;
        let mut backoff = Backoff::default();
        for field in &table.fields {
            match field.name {
                "initial" => backoff.initial = self.duration(field)?,
                "max" => backoff.max = self.duration(field)?,
                "reset_after" => backoff.reset_after = self.duration(field)?,
                "factor" => {
                    let expected = "expected a number of at least 1, like 2.0";
                    let factor = match field.value.get_ref() {
                        DeValue::Float(float) => float.as_str().parse::<f64>().ok(),
                        DeValue::Integer(_) => Some(self.integer(field, expected)? as f64),
                        _ => return Err(self.wrong_type(field, expected)),
                    };
                    match factor {
                        Some(factor) if factor.is_finite() && factor >= 1.0 => {
                            backoff.factor = factor;
                        }
                        Some(factor) if factor < 1.0 => {
                            return Err(self.at_value(
                                field,
                                format!("{factor} is less than 1"),
                                expected,
                            ));
                        }
                        _ => return Err(self.at_value(field, "not a finite number", expected)),
                    }
                }
                _ => {}
            }
        }
        if backoff.max < backoff.initial {
            let (initial, max) = (
                humantime::format_duration(backoff.initial),
                humantime::format_duration(backoff.max),
            );
            return Err(match (table.get("max"), table.get("initial")) {
                (Some(max_field), _) => self.at_value(
                    max_field,
                    format!("{max} is less than backoff.initial ({initial})"),
                    "expected at least backoff.initial",
                ),
                (None, Some(initial_field)) => self.at_value(
                    initial_field,
                    format!("{initial} is more than backoff.max ({max}, the default)"),
                    "expected at most backoff.max; set backoff.max too",
                ),
                (None, None) => {
                    self.at_value(field, "max is less than initial", "expected max ≥ initial")
                }
            });
        }
        Ok(backoff)
    }

    pub(super) fn max_restarts(&self, field: &Field<'_, '_>) -> Result<MaxRestarts, ConfigError> {
        let table = self.table(
            field,
            Some(MAX_RESTARTS_KEYS),
            r#"expected a table, like max_restarts = { count = 10, within = "1m" }"#,
        )?;
        let mut max_restarts = MaxRestarts::default();
        for field in &table.fields {
            match field.name {
                "count" => {
                    let expected = "expected a number of restarts, like 10";
                    let count = self.integer(field, expected)?;
                    max_restarts.count = u32::try_from(count).map_err(|_| {
                        self.at_value(field, format!("{count} is out of range"), expected)
                    })?;
                }
                "within" => {
                    let within = self.duration(field)?;
                    if within.is_zero() {
                        return Err(self.at_value(
                            field,
                            "zero duration",
                            r#"expected a time window, like "1m""#,
                        ));
                    }
                    max_restarts.within = within;
                }
                _ => {}
            }
        }
        Ok(max_restarts)
    }

    pub(super) fn stop(&self, field: &Field<'_, '_>) -> Result<StopPolicy, ConfigError> {
        let table = self.table(
            field,
            Some(STOP_KEYS),
            r#"expected a table, like stop = { signal = "TERM", timeout = "10s" }"#,
        )?;
        let mut stop = StopPolicy::default();
        for field in &table.fields {
            match field.name {
                "signal" => {
                    let expected = format!(
                        "expected one of: {}; by name (TERM, SIGTERM) or number",
                        values::SIGNALS.join(", ")
                    );
                    let signal = match field.value.get_ref() {
                        DeValue::String(_) => {
                            let text = self.string(field, &expected)?;
                            values::normalize_signal(text).ok_or_else(|| {
                                self.at_value(field, format!("unknown signal {text:?}"), &expected)
                            })?
                        }
                        DeValue::Integer(_) => {
                            let number = self.integer(field, &expected)?;
                            i32::try_from(number)
                                .ok()
                                .and_then(values::signal_of_number)
                                .ok_or_else(|| {
                                    self.at_value(
                                        field,
                                        format!("unknown signal {number}"),
                                        &expected,
                                    )
                                })?
                        }
                        _ => return Err(self.wrong_type(field, expected)),
                    };
                    stop.signal = signal;
                }
                "timeout" => stop.grace = self.duration(field)?,
                _ => {}
            }
        }
        Ok(stop)
    }

    pub(super) fn watch(
        &self,
        field: &Field<'_, '_>,
        dir: &Path,
    ) -> Result<Option<Watch>, ConfigError> {
        let expected = r#"expected a table, like watch = { paths = ["src"] }, or true"#;
        let table = match field.value.get_ref() {
            DeValue::Boolean(true) => return Ok(Some(Watch::new(vec![dir.to_path_buf()]))),
            DeValue::Boolean(false) => return Ok(None),
            _ => self.table(field, Some(WATCH_KEYS), expected)?,
        };
        let mut watch = Watch::new(vec![dir.to_path_buf()]);
        for field in &table.fields {
            match field.name {
                "paths" => {
                    let expected = r#"expected an array of files or folders relative to the program's dir, like ["src"]"#;
                    let paths = self.string_list(field, expected)?;
                    if paths.is_empty() {
                        return Err(self.at_value(field, "no paths", expected));
                    }
                    watch.paths =
                        paths.into_iter().map(|p| without_cur_dirs(&dir.join(p))).collect();
                }
                "ignore" => {
                    let expected =
                        r#"expected an array of glob patterns, like ["**/__pycache__/**"]"#;
                    let patterns = self.string_list(field, expected)?;
                    let items = match field.value.get_ref() {
                        DeValue::Array(_) => self.items(field, expected)?,
                        _ => Vec::new(),
                    };
                    for (i, pattern) in patterns.iter().enumerate() {
                        if let Err(error) = globset::Glob::new(pattern) {
                            let at = items.get(i).unwrap_or(field);
                            return Err(self.at_value(
                                at,
                                format!("invalid glob {pattern:?}: {}", error.kind()),
                                expected,
                            ));
                        }
                    }
                    watch.ignore = patterns.into_iter().map(str::to_owned).collect();
                }
                "debounce" => watch.debounce = self.duration(field)?,
                _ => {}
            }
        }
        Ok(Some(watch))
    }
}
