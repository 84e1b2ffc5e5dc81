//! Property tests of the dotenv parser: it never panics, and what `render` writes parses back
//! to the same pairs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tend_fs::dotenv::{Parsed, parse, parse_bytes, parse_expanding, render};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1000,
        // No regression files: the test must not write into the source tree.
        failure_persistence: None,
        // The default ChaCha generator dominates the run time in unoptimised test builds.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

/// Things every parse result must satisfy, whatever the input.
fn check_invariants(parsed: &Parsed, text_lines: usize) {
    for entry in &parsed.entries {
        let mut key = entry.key.bytes();
        assert!(key.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_'), "{entry:?}");
        assert!(key.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'), "{entry:?}");
        assert!(!entry.value.contains('\0'));
        assert!((1..=text_lines).contains(&entry.line), "{entry:?} beyond {text_lines} lines");
    }
    let keys: std::collections::HashSet<_> = parsed.entries.iter().map(|e| &e.key).collect();
    assert_eq!(keys.len(), parsed.entries.len(), "a key appears twice");
    assert!(parsed.problems.windows(2).all(|w| w[0].line <= w[1].line), "problems out of order");
    for problem in &parsed.problems {
        assert!((1..=text_lines).contains(&problem.line), "{problem} beyond {text_lines} lines");
    }
}

fn line_count(text: &str) -> usize {
    text.split('\n').count()
}

/// Text built from the characters that matter to the parser, so that the interesting paths
/// (quotes, escapes, comments, multi-line values) are reached far more often than by chance.
fn dotenv_like() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("A".to_owned()),
        Just("K_1.x".to_owned()),
        Just("export ".to_owned()),
        Just("=".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("#".to_owned()),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("$".to_owned()),
        Just("${A}".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\0".to_owned()),
        Just("é✓".to_owned()),
        prop::collection::vec(prop::sample::select(&b"abcxyz0129"[..]), 1..4)
            .prop_map(|v| String::from_utf8(v).unwrap()),
    ];
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

fn key() -> impl Strategy<Value = String> {
    const FIRST: &[u8] = b"ABCXYZabcxyz_";
    const REST: &[u8] = b"ABCXYZabcxyz_0189.";
    let first = prop::sample::select(FIRST);
    let rest = prop::collection::vec(prop::sample::select(REST), 0..10);
    (first, rest).prop_map(|(first, rest)| {
        let mut key = vec![first];
        key.extend(rest);
        String::from_utf8(key).unwrap()
    })
}

fn value() -> impl Strategy<Value = String> {
    // Pieces that matter to quoting and escaping, whole sequences included ("${A}", " #",
    // "\r\n") so that they turn up often, not by a lucky run of characters.
    let special = prop::sample::select(vec![
        " ", "\t", "\n", "\r", "\r\n", "'", "\"", "\\", "\\n", "\\\"", "#", " #", "=", "$", "${A}",
        "${x.y}", "\\$", "{", "}", "\u{feff}", "é", "日本", "🦀", "export ",
    ])
    .prop_map(str::to_owned);
    let plain = prop::char::range('a', 'z').prop_map(String::from);
    // Any char but NUL, which no environment variable can hold.
    let any = any::<char>().prop_filter("no NUL", |c| *c != '\0').prop_map(String::from);
    let piece = prop_oneof![3 => special, 3 => plain, 1 => any];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

/// What parsing `pairs` must give: one entry per key at its first place, with its last value.
fn expected(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

fn owned(parsed: &Parsed) -> Vec<(String, String)> {
    parsed.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics_on_any_string(text in any::<String>()) {
        check_invariants(&parse(&text), line_count(&text));
    }

    #[test]
    fn never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        check_invariants(&parse(&text), line_count(&text));
        check_invariants(&parse_bytes(&bytes), line_count(&text));
    }

    #[test]
    fn never_panics_on_dotenv_like_text(text in dotenv_like()) {
        check_invariants(&parse(&text), line_count(&text));
        let lookup = |name: &str| (name == "A").then(|| "x\"'$\n".to_owned());
        check_invariants(&parse_expanding(&text, &lookup), line_count(&text));
    }

    #[test]
    fn rendered_pairs_round_trip(pairs in prop::collection::vec((key(), value()), 0..12)) {
        let text = render(pairs.iter().map(|(k, v)| (k, v))).unwrap();
        let want = expected(&pairs);

        let parsed = parse(&text);
        prop_assert!(parsed.problems.is_empty(), "{:?} in {text:?}", parsed.problems);
        prop_assert_eq!(owned(&parsed), want.clone(), "text: {:?}", text);

        // Expansion, CRLF line ends and a BOM change nothing either.
        let everything = |_: &str| Some("EXPANDED".to_owned());
        prop_assert_eq!(owned(&parse_expanding(&text, &everything)), want.clone());
        let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        prop_assert_eq!(owned(&parse(&windows)), want);
    }
}
