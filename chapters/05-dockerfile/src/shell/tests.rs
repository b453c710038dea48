//! The expansion's behaviour through its public API: the operators (which BuildKit's test
//! tables only cover inline, in Go), the modes, the variables a word reports, and every
//! error message.

use super::*;

/// The environment of the tables below.
const ENV: [&str; 6] = [
    "FILE=archive.tar.gz",
    "DIR=/usr/local/bin",
    "EMPTY=",
    "STARS=a**b",
    "LINES=one\ntwo",
    "ARCH=arm",
];

fn expand(word: &str) -> Result<String, Reason> {
    Lexer::default()
        .process_word(word, &Env::new(ENV))
        .map_err(|err| err.reason)
}

/// Runs a table of `(word, expected)` and lists every row that disagrees.
fn check(table: &[(&str, &str)]) {
    let wrong: Vec<String> = table
        .iter()
        .filter_map(|(word, expected)| match expand(word) {
            Ok(value) if value == *expected => None,
            outcome => Some(format!("{word:?}: expected {expected:?}, got {outcome:?}")),
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn defaults_alternatives_and_requirements() {
    check(&[
        ("${FILE:-x}", "archive.tar.gz"),
        ("${NOPE:-x}", "x"),
        ("${EMPTY:-x}", "x"),
        ("${EMPTY-x}", ""),
        ("${NOPE-x}", "x"),
        ("${FILE:+x}", "x"),
        ("${EMPTY:+x}", ""),
        ("${EMPTY+x}", "x"),
        ("${NOPE+x}", ""),
        ("${FILE:?x}", "archive.tar.gz"),
        ("${EMPTY?x}", ""),
        ("${NOPE:-${ARCH:-x}}", "arm"),
        ("${NOPE:-'$ARCH' \"$ARCH\"}", "$ARCH arm"),
        ("v-${ARCH}${VARIANT:+-${VARIANT}}", "v-arm"),
    ]);
}

#[test]
fn removing_prefixes() {
    check(&[
        ("${FILE#*.}", "tar.gz"),
        ("${FILE##*.}", "gz"),
        ("${FILE#archive}", ".tar.gz"),
        ("${FILE#tar}", "archive.tar.gz"),
        ("${FILE#???????}", ".tar.gz"),
        ("${FILE#}", "archive.tar.gz"),
        ("${FILE##}", "archive.tar.gz"),
        ("${FILE#*}", "archive.tar.gz"),
        ("${FILE##*}", ""),
        ("${DIR#/*/}", "local/bin"),
        ("${DIR##*/}", "bin"),
        ("${STARS#*\\*}", "*b"),
        ("${STARS##*\\*}", "b"),
        ("${NOPE#*}", ""),
        // The pattern may come from a variable, and is still a pattern.
        ("${FILE#${ARCH%m}}", "chive.tar.gz"),
        // Quotes do not make a wildcard literal, as they would in a shell.
        ("${FILE##\"*.\"}", "gz"),
        ("${FILE#\\*}", "archive.tar.gz"),
        // `*` and `?` do not cross a newline.
        ("${LINES#*e}", "\ntwo"),
        ("${LINES##*o}", "ne\ntwo"),
    ]);
}

#[test]
fn removing_suffixes() {
    check(&[
        ("${FILE%.*}", "archive.tar"),
        ("${FILE%%.*}", "archive"),
        ("${FILE%gz}", "archive.tar."),
        ("${FILE%tar}", "archive.tar.gz"),
        ("${FILE%?}", "archive.tar.g"),
        ("${FILE%}", "archive.tar.gz"),
        ("${FILE%%*}", ""),
        ("${DIR%/*}", "/usr/local"),
        ("${DIR%%/*}", ""),
        ("${STARS%%\\**}", "a"),
        ("${LINES%%o*}", "one\ntw"),
    ]);
}

#[test]
fn replacing() {
    check(&[
        ("${FILE/a/A}", "Archive.tar.gz"),
        ("${FILE//a/A}", "Archive.tAr.gz"),
        ("${FILE/.gz/.zst}", "archive.tar.zst"),
        ("${FILE/x/y}", "archive.tar.gz"),
        // Leftmost, then longest.
        ("${FILE/r*./-}", "a-gz"),
        ("${FILE//?/.}", ".............."),
        ("${DIR//\\//:}", ":usr:local:bin"),
        ("${DIR/\\/local/}", "/usr/bin"),
        ("${FILE/$EMPTY/>}", ">archive.tar.gz"),
        ("${ARCH//$EMPTY/-}", "-a-r-m-"),
        ("${ARCH//a/${FILE%%.*}}", "archiverm"),
        ("${NOPE/a/b}", ""),
        // BuildKit hands every-match replacements to Go's regexp, which reads `$0` as the
        // match; a kept `\` before the `$` stays. A first-match replacement is pasted as is.
        ("${ARCH//r/\\$0}", "a\\rm"),
        ("${ARCH/r/\\$0}", "a\\$0m"),
    ]);
}

#[test]
fn what_a_shell_would_do_and_this_does_not() {
    check(&[
        ("$(date)", "$(date)"),
        ("`date`", "`date`"),
        ("*.txt", "*.txt"),
        ("~/x", "~/x"),
        ("$((1+1))", "$((1+1))"),
        ("$", "$"),
        ("a$.b", "a$.b"),
        ("$1$@$#$?$$$!$-$*$0", ""),
    ]);
}

#[test]
fn one_word_keeps_the_spaces_of_values() {
    let env = Env::new(["A=x  y"]);
    assert_eq!(Lexer::default().process_word("$A", &env).unwrap(), "x  y");
    assert_eq!(
        Lexer::default().process_words("$A \"$A\"", &env).unwrap(),
        ["x", "y", "x  y"]
    );
}

#[test]
fn split_words_keep_the_text_before_an_operator() {
    // BuildKit's words lose `80/` here (its nested reads share one buffer); ours do not.
    let words = Lexer::default().process_words("80/${P:-tcp} 443", &Env::default());
    assert_eq!(words.unwrap(), ["80/tcp", "443"]);
}

#[test]
fn a_backtick_escape_leaves_backslashes_alone() {
    let lexer = Lexer::new('`');
    let env = Env::new(["A=1"]);
    assert_eq!(lexer.process_word(r"C:\dir\$A", &env).unwrap(), r"C:\dir\1");
    assert_eq!(lexer.process_word("`$A", &env).unwrap(), "$A");
    assert_eq!(lexer.process_word("\"`\"`$A``\"", &env).unwrap(), "\"$A`");
    assert_eq!(lexer.process_words("a` b c", &env).unwrap(), ["a b", "c"]);
}

#[test]
fn windows_names_ignore_case() {
    let env = Env::new(["Path=C:\\bin"]).with_key_case(KeyCase::Insensitive);
    let expansion = Lexer::new('`').expand("$PATH;${path}", &env).unwrap();
    assert_eq!(expansion.value, "C:\\bin;C:\\bin");
    assert_eq!(expansion.used, ["PATH", "path"]);
    assert!(expansion.unset.is_empty());
}

#[test]
fn raw_quotes_are_kept_and_still_group() {
    let lexer = Lexer {
        raw_quotes: true,
        ..Lexer::default()
    };
    let expansion = lexer
        .expand(r#"a"b $X"'c d' e"#, &Env::new(["X=x"]))
        .unwrap();
    assert_eq!(expansion.value, r#"a"b x"'c d' e"#);
    assert_eq!(expansion.words, [r#"a"b x"'c d'"#, "e"]);
}

#[test]
fn raw_escapes_are_kept_and_still_protect() {
    let lexer = Lexer {
        raw_escapes: true,
        ..Lexer::default()
    };
    let expansion = lexer
        .expand(r#"a\ b\$X "\$X\t""#, &Env::new(["X=x"]))
        .unwrap();
    assert_eq!(expansion.value, r#"a\ b\$X \$X\t"#);
    assert_eq!(expansion.words, [r"a\ b\$X", r"\$X\t"]);
}

#[test]
fn ignored_quotes_are_ordinary_characters() {
    let lexer = Lexer {
        ignore_quotes: true,
        ..Lexer::default()
    };
    let expansion = lexer
        .expand(r#"echo '$X' "$X"'"#, &Env::new(["X=x"]))
        .unwrap();
    assert_eq!(expansion.value, r#"echo 'x' "x"'"#);
    assert_eq!(expansion.words, ["echo", "'x'", "\"x\"'"]);
}

#[test]
fn unset_variables_can_be_kept_as_written() {
    let lexer = Lexer {
        keep_unset: true,
        ..Lexer::default()
    };
    let word = "$NOPE ${NOPE} ${NOPE:-d} ${NOPE#p} ${NOPE/a/b} ${NOPE//a/b} ${NOPE:Y} $X";
    let expansion = lexer.expand(word, &Env::new(["X=x"])).unwrap();
    assert_eq!(
        expansion.value,
        "$NOPE ${NOPE} ${NOPE:-d} ${NOPE#p} ${NOPE/a/b} ${NOPE//a/b} ${NOPE:Y} x"
    );
    assert_eq!(expansion.unset, ["NOPE"]);
}

#[test]
fn heredoc_arrows_stay_one_word() {
    let words = Lexer::default().process_words("cat <<  EOF a<b <c", &Env::default());
    assert_eq!(words.unwrap(), ["cat", "<<  EOF", "a<b", "<c"]);
}

#[test]
fn a_leading_byte_order_mark_is_skipped() {
    assert_eq!(expand("\u{FEFF}$ARCH"), Ok("arm".to_string()));
    assert_eq!(expand("a\u{FEFF}"), Ok("a\u{FEFF}".to_string()));
}

#[test]
fn a_word_reports_the_variables_it_used_in_order() {
    let env = Env::new(["B=1", "C=", "D=d"]);
    let expansion = Lexer::default()
        .expand("${A:-$B} $C '$X' \"$A\" ${D/$E/f} ${/a/b} $1", &env)
        .unwrap();
    // In the order they are written, though `${A:-$B}` looks `B` up before `A`.
    assert_eq!(expansion.used, ["A", "B", "C", "D", "E", "1"]);
    assert_eq!(expansion.unset, ["A", "E", "1"]);
}

#[test]
fn every_error_message() {
    let env = Env::new(["EMPTY=", "BACKSLASH=ab\\"]);
    let message = |word: &str| match Lexer::default().process_word(word, &env) {
        Ok(value) => panic!("{word:?} expanded to {value:?}"),
        Err(err) => err.to_string(),
    };
    let cases = [
        (
            "'abc",
            "unexpected end of statement while looking for matching single-quote",
        ),
        (
            "\"abc",
            "unexpected end of statement while looking for matching double-quote",
        ),
        ("${V", "syntax error: missing '}'"),
        ("${V:-${W}", "syntax error: missing '}'"),
        ("${V/a", "syntax error: missing '/' in ${}"),
        ("${}", "syntax error: bad substitution"),
        ("${:-x}", "syntax error: bad substitution"),
        ("${{V}", "syntax error: bad substitution"),
        ("${V:Y}", "unsupported modifier (:Y) in substitution"),
        ("${V:=x}", "unsupported modifier (:=) in substitution"),
        ("${V=x}", "unsupported modifier (=) in substitution"),
        ("${V:#x}", "unsupported modifier (:#) in substitution"),
        ("${.}", "unsupported modifier (.) in substitution"),
        ("${V?}", "V: is not allowed to be unset"),
        ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
        ("${V?must be set, see $DOCS}", "V: must be set, see "),
        (
            "${V#a\\b}",
            "invalid pattern (a\\b) in substitution: invalid escape '\\b'",
        ),
        (
            "${V%$BACKSLASH}",
            "invalid pattern (ab\\) in substitution: a trailing '\\' escapes nothing",
        ),
    ];
    for (word, expected) in cases {
        assert_eq!(
            message(word),
            format!("failed to process {word:?}: {expected}")
        );
    }
    let nested = format!(
        "{}x{}",
        "${A:-".repeat(MAX_NESTING + 1),
        "}".repeat(MAX_NESTING + 1)
    );
    assert!(message(&nested).ends_with("syntax error: ${} nested more than 64 levels deep"));
}

#[test]
fn nesting_up_to_the_limit_expands() {
    let word = format!(
        "{}x{}",
        "${A:-".repeat(MAX_NESTING),
        "}".repeat(MAX_NESTING)
    );
    assert_eq!(expand(&word), Ok("x".to_string()));
}

#[test]
fn every_reason_but_the_users_own_has_a_hint() {
    let reasons = [
        Reason::UnclosedSingleQuote,
        Reason::UnclosedDoubleQuote,
        Reason::MissingBrace,
        Reason::MissingSlash,
        Reason::BadSubstitution,
        Reason::UnsupportedModifier(":Y".to_string()),
        Reason::TooDeep(MAX_NESTING),
        Reason::InvalidPattern {
            pattern: "\\x".to_string(),
            problem: PatternError::InvalidEscape('x'),
        },
    ];
    for reason in reasons {
        assert!(reason.hint().is_some(), "{reason:?}");
    }
    let required = Reason::Required {
        name: "V".to_string(),
        message: "is needed".to_string(),
    };
    assert_eq!(required.hint(), None);
}

#[test]
fn no_short_word_panics() {
    // Every word of up to four of these characters: errors are fine, panics are not.
    let alphabet: Vec<char> = "${}:-+?#%/\\'\"` a*".chars().collect();
    let lexers = [
        Lexer::default(),
        Lexer {
            raw_quotes: true,
            raw_escapes: true,
            keep_unset: true,
            ..Lexer::new('`')
        },
    ];
    let env = Env::new(["a=", "A=x*"]);
    let mut word = Vec::new();
    fn each(word: &mut Vec<char>, alphabet: &[char], left: usize, visit: &mut dyn FnMut(&str)) {
        visit(&word.iter().collect::<String>());
        if left == 0 {
            return;
        }
        for &c in alphabet {
            word.push(c);
            each(word, alphabet, left - 1, visit);
            word.pop();
        }
    }
    each(&mut word, &alphabet, 4, &mut |word| {
        for lexer in &lexers {
            let _ = lexer.expand(word, &env);
        }
    });
}
