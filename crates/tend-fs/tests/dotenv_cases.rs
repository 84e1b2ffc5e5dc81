//! A table of dotenv parser cases: every feature, and malformed input that must not stop the
//! rest of the file from loading.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tend_fs::dotenv::{ProblemKind, parse, parse_bytes, parse_expanding};

/// Shorthand for the expected entries and problems of one case.
struct Case {
    name: &'static str,
    input: &'static str,
    entries: &'static [(&'static str, &'static str)],
    problems: &'static [(usize, ProblemKind)],
}

const fn case(
    name: &'static str,
    input: &'static str,
    entries: &'static [(&'static str, &'static str)],
    problems: &'static [(usize, ProblemKind)],
) -> Case {
    Case { name, input, entries, problems }
}

use ProblemKind::*;

const CASES: &[Case] = &[
    case("empty file", "", &[], &[]),
    case("blank lines and comments", "\n  \n\t\n# comment\n   # indented\n", &[], &[]),
    case("simple", "A=1\nB=two\n", &[("A", "1"), ("B", "two")], &[]),
    case("no trailing newline", "A=1", &[("A", "1")], &[]),
    case("empty value", "A=\nB=   \nC= # comment\n", &[("A", ""), ("B", ""), ("C", "")], &[]),
    case("spaces around =", "A = 1\n  B\t=\t2  \n", &[("A", "1"), ("B", "2")], &[]),
    case(
        "export prefix",
        "export A=1\nexport\tB=2\nexport   C='3'\n",
        &[("A", "1"), ("B", "2"), ("C", "3")],
        &[],
    ),
    case("export as a key", "export=1\nexport =2\n", &[("export", "2")], &[]),
    case("exported name starting with export", "exportA=1\n", &[("exportA", "1")], &[]),
    case(
        "keys with dots, digits, underscores",
        "_a.b9=1\nA.B=2\n",
        &[("_a.b9", "1"), ("A.B", "2")],
        &[],
    ),
    case("unquoted with spaces", "K=two words here\n", &[("K", "two words here")], &[]),
    case(
        "unquoted comment after space",
        "K=value # comment\nL=v\t# tab comment\n",
        &[("K", "value"), ("L", "v")],
        &[],
    ),
    case(
        "hash without space stays",
        "URL=http://x/#frag\nC=a#b #c\n",
        &[("URL", "http://x/#frag"), ("C", "a#b")],
        &[],
    ),
    case("hash right after =", "K=#notacomment\n", &[("K", "#notacomment")], &[]),
    case(
        "= inside values",
        "K=a=b=c\nL='x=y'\nM=\"p=q\"\n",
        &[("K", "a=b=c"), ("L", "x=y"), ("M", "p=q")],
        &[],
    ),
    case(
        "unquoted keeps quotes and backslashes inside",
        r#"K=it's "x" C:\dir\n"#,
        &[("K", r#"it's "x" C:\dir\n"#)],
        &[],
    ),
    case("unquoted keeps $", "K=$HOME/${X}\n", &[("K", "$HOME/${X}")], &[]),
    case(
        "single quotes are literal",
        r#"K='a \n "b" $X ${Y} # c'"#,
        &[("K", r#"a \n "b" $X ${Y} # c"#)],
        &[],
    ),
    case(
        "single quotes multi-line",
        "K='line1\nline2'\nNEXT=1\n",
        &[("K", "line1\nline2"), ("NEXT", "1")],
        &[],
    ),
    case("single quotes keep spaces", "K='  padded  '\n", &[("K", "  padded  ")], &[]),
    case("double quote escapes", r#"K="a\nb\"c\\d\te\rf\$g""#, &[("K", "a\nb\"c\\d\te\rf$g")], &[]),
    case("double quote unknown escape kept", r#"K="C:\Users\x""#, &[("K", r"C:\Users\x")], &[]),
    case(
        "double quotes multi-line",
        "K=\"line1\nline2\\n\"\nNEXT=1\n",
        &[("K", "line1\nline2\n"), ("NEXT", "1")],
        &[],
    ),
    case("double quotes keep # and '", "K=\"a # b 'c'\"\n", &[("K", "a # b 'c'")], &[]),
    case(
        "comment after closing quote",
        "K='v' # c\nL=\"w\"\t#c\nM='x'#c\n",
        &[("K", "v"), ("L", "w"), ("M", "x")],
        &[],
    ),
    case("blanks after closing quote", "K='v'   \n", &[("K", "v")], &[]),
    case("empty quotes", "K=''\nL=\"\"\n", &[("K", ""), ("L", "")], &[]),
    case("later assignment wins", "A=1\nB=2\nA=3\n", &[("A", "3"), ("B", "2")], &[]),
    case("unicode", "K=héllo wörld ✓\nL='日本'\n", &[("K", "héllo wörld ✓"), ("L", "日本")], &[]),
    case("BOM", "\u{feff}A=1\nB=2\n", &[("A", "1"), ("B", "2")], &[]),
    case(
        "CRLF",
        "A=1\r\nB='x'\r\nC=\"y\" # c\r\n# c\r\n\r\nD=two words\r\n",
        &[("A", "1"), ("B", "x"), ("C", "y"), ("D", "two words")],
        &[],
    ),
    case("CRLF inside a multi-line value", "K=\"a\r\nb\"\r\n", &[("K", "a\nb")], &[]),
    case("BOM and CRLF", "\u{feff}export A=1\r\n", &[("A", "1")], &[]),
    // Malformed lines: a problem each, and the rest still loads.
    case(
        "no equals",
        "A=1\nno equals here\nB=2\n",
        &[("A", "1"), ("B", "2")],
        &[(2, MissingEquals)],
    ),
    case("bare key", "A\nB=2\n", &[("B", "2")], &[(1, MissingEquals)]),
    case("export without value", "export A\nB=2\n", &[("B", "2")], &[(1, MissingEquals)]),
    case("bad key: digit first", "1A=x\nB=2\n", &[("B", "2")], &[(1, InvalidKey)]),
    case("bad key: dash", "A-B=x\nB=2\n", &[("B", "2")], &[(1, InvalidKey)]),
    case("bad key: two words", "two words=x\nB=2\n", &[("B", "2")], &[(1, InvalidKey)]),
    case("bad key: empty", "=x\nB=2\n", &[("B", "2")], &[(1, InvalidKey)]),
    case("bad key: unicode", "KÉY=x\nB=2\n", &[("B", "2")], &[(1, InvalidKey)]),
    case(
        "unterminated double quote",
        "A=1\nB=\"oops\nC=2\nD=3\n",
        &[("A", "1"), ("C", "2"), ("D", "3")],
        &[(2, UnterminatedQuote { double: true })],
    ),
    case(
        "unterminated single quote",
        "A=1\nB='oops\nC=2\n",
        &[("A", "1"), ("C", "2")],
        &[(2, UnterminatedQuote { double: false })],
    ),
    case(
        "unterminated quote at end",
        "A=1\nB=\"",
        &[("A", "1")],
        &[(2, UnterminatedQuote { double: true })],
    ),
    case(
        "escaped quote does not close",
        "A=\"x\\\"\nB=2\n",
        &[("B", "2")],
        &[(1, UnterminatedQuote { double: true })],
    ),
    case("text after closing quote", "A='x'y\nB=2\n", &[("B", "2")], &[(1, TextAfterQuote)]),
    // A missing closing quote whose value "closes" on a later line's quote: the entry is
    // dropped and reading resumes right after the line where it began.
    case(
        "missing quote closed by a later line",
        "A=\"abc\nB=1\nC=\"x\"\nD=2\n",
        &[("B", "1"), ("C", "x"), ("D", "2")],
        &[(1, TextAfterQuote)],
    ),
    case("NUL in value", "A=x\0y\nB=2\n", &[("B", "2")], &[(1, NulInValue)]),
    case(
        "several problems",
        "bad\nA=1\n9=2\nB='3\nC=4\n",
        &[("A", "1"), ("C", "4")],
        &[(1, MissingEquals), (3, InvalidKey), (4, UnterminatedQuote { double: false })],
    ),
];

#[test]
fn parser_cases() {
    let mut failures = Vec::new();
    for case in CASES {
        let parsed = parse(case.input);
        let entries: Vec<(&str, &str)> = parsed.iter().collect();
        let problems: Vec<(usize, ProblemKind)> =
            parsed.problems.iter().map(|p| (p.line, p.kind.clone())).collect();
        if entries != case.entries || problems != case.problems {
            failures.push(format!(
                "{}: input {:?}\n  entries  {entries:?}\n  expected {:?}\n  problems {problems:?}\n  expected {:?}",
                case.name, case.input, case.entries, case.problems
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn entry_lines_are_where_assignments_begin() {
    let parsed = parse("# c\nA=1\nB='x\ny'\nC=3\nA=4\n");
    let lines: Vec<(&str, usize)> =
        parsed.entries.iter().map(|e| (e.key.as_str(), e.line)).collect();
    assert_eq!(lines, [("A", 6), ("B", 3), ("C", 5)]);
}

#[test]
fn problems_never_contain_values() {
    let secret = "hunter2-SECRET";
    let inputs = [
        format!("{secret}\n"),
        format!("{secret}={secret}\n"),
        format!("A=\"{secret}\n"),
        format!("A='{secret}'{secret}\n"),
        format!("A={secret}\0\n"),
        format!("A=\"{secret}\nB={secret}\"{secret}\n"),
    ];
    for input in inputs {
        let parsed = parse(&input);
        assert!(!parsed.problems.is_empty(), "{input:?}");
        for problem in &parsed.problems {
            let shown = format!("{} / {:?} / {}", problem, problem, problem.in_file(".env"));
            assert!(!shown.contains("hunter2"), "a problem shows a value: {shown}");
        }
        let debug = format!("{parsed:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}

#[test]
fn problem_display_names_file_and_line() {
    let parsed = parse("A=1\nB=\"open\n");
    let problem = &parsed.problems[0];
    assert_eq!(
        problem.to_string(),
        "line 2: unterminated double quote; the entry is skipped and reading resumes on the next line"
    );
    assert_eq!(
        problem.in_file(std::path::Path::new("/app/.env")).to_string(),
        "/app/.env:2: unterminated double quote; the entry is skipped and reading resumes on the next line"
    );
}

#[test]
fn debug_masks_values() {
    let parsed = parse("TOKEN=s3cr3t\n");
    let debug = format!("{parsed:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(debug.contains("TOKEN") && debug.contains("***"), "{debug}");
}

#[test]
fn invalid_utf8_is_replaced_and_reported() {
    let parsed = parse_bytes(b"A=1\nB=\xff\xfe ok\nC=\"x\ny\xc3\"\nD=4\n");
    assert_eq!(parsed.get("A"), Some("1"));
    assert_eq!(parsed.get("B"), Some("\u{fffd}\u{fffd} ok"));
    assert_eq!(parsed.get("C"), Some("x\ny\u{fffd}"));
    assert_eq!(parsed.get("D"), Some("4"));
    let lines: Vec<_> = parsed.problems.iter().map(|p| (p.line, p.kind.clone())).collect();
    assert_eq!(lines, [(2, InvalidUtf8), (4, InvalidUtf8)]);
}

#[test]
fn expansion_is_off_by_default() {
    // Even a variable that is certainly set in the process environment is not expanded.
    let parsed = parse("A=${PATH}\nB=\"${PATH}\"\nC=$PATH\n");
    assert_eq!(parsed.get("A"), Some("${PATH}"));
    assert_eq!(parsed.get("B"), Some("${PATH}"));
    assert_eq!(parsed.get("C"), Some("$PATH"));
}

#[test]
fn expansion_when_asked() {
    let lookup = |name: &str| match name {
        "HOME" => Some("/home/me".to_owned()),
        "A" => Some("from lookup".to_owned()),
        _ => None,
    };
    let text = "\
A=first
B=${A}/x
C=\"${HOME} and ${A}\"
D='${HOME}'
E=\"\\${HOME}\"
F=${MISSING}-end
G=$HOME ${ HOME} ${9} ${HOME
A=second
H=${A}
";
    let parsed = parse_expanding(text, &lookup);
    assert_eq!(parsed.get("B"), Some("first/x"), "earlier entries come before the lookup");
    assert_eq!(parsed.get("C"), Some("/home/me and first"));
    assert_eq!(parsed.get("D"), Some("${HOME}"), "single quotes are literal");
    assert_eq!(parsed.get("E"), Some("${HOME}"), "\\$ is a literal $");
    assert_eq!(parsed.get("F"), Some("-end"));
    assert_eq!(parsed.get("G"), Some("$HOME ${ HOME} ${9} ${HOME"), "only ${{NAME}} expands");
    assert_eq!(parsed.get("H"), Some("second"));
    let problems: Vec<_> = parsed.problems.iter().map(|p| (p.line, p.kind.clone())).collect();
    assert_eq!(problems, [(6, UnsetVariable { name: "MISSING".to_owned() })]);
}
