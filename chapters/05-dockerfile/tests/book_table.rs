//! The book's table of word expansions (chapter 05's page, "Words and variables") is checked
//! against the expander, so the page cannot drift from the code: every word of the first
//! column, expanded with `NAME=world` and `EMPTY=` set, gives what the second column says.

use ch05_dockerfile::shell::{Env, Lexer};

const PAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../book/src/ch05-dockerfile.md"
);

/// The table's rows: the words of the first column (one, or two separated by ` / `) and what
/// the second column says each gives.
fn rows() -> Vec<(Vec<String>, Vec<String>)> {
    let page = std::fs::read_to_string(PAGE).expect("read chapter 05's page");
    let table = page
        .split_once("| word | with `NAME=world`, `EMPTY=` | |")
        .expect("the page has its expansion table")
        .1;
    let code = |cell: &str| -> Vec<String> {
        cell.split(" / ")
            .map(|part| {
                let part = part.trim();
                match part.strip_prefix('`').and_then(|p| p.split_once('`')) {
                    Some((inside, _)) => inside.to_string(),
                    // "(empty)" or "an error: ..."
                    None => part.to_string(),
                }
            })
            .collect()
    };
    table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            (code(cells[1]), code(cells[2]))
        })
        .collect()
}

#[test]
fn the_books_expansion_table_is_what_the_expander_does() {
    let env = Env::new(["NAME=world", "EMPTY="]);
    let lexer = Lexer::default();
    let rows = rows();
    assert!(rows.len() >= 8, "{rows:?}");
    for (words, expected) in rows {
        assert_eq!(words.len(), expected.len(), "{words:?} → {expected:?}");
        for (word, expected) in words.iter().zip(&expected) {
            let got = lexer.process_word(word, &env);
            match expected.strip_prefix("an error: ") {
                Some(message) => {
                    let error = got.expect_err(word).to_string();
                    assert!(
                        error.ends_with(message.trim_matches('`')),
                        "{word}: {error}"
                    );
                }
                None => {
                    let expected = if expected == "(empty)" { "" } else { expected };
                    assert_eq!(got.expect(word), expected, "{word}");
                }
            }
        }
    }
}
