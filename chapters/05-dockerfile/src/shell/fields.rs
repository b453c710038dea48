//! Word splitting: cutting an expanded word into words at its unquoted whitespace.
//!
//! A shell splits a command line into words and then splits the *results* of unquoted
//! expansions again, so `$PORTS` holding `80 443` becomes two words. The same happens here,
//! but only where a builder asks for words ([`super::Lexer::process_words`]). What decides is
//! where each character came from:
//!
//! - written unquoted, or produced by an unquoted `$VAR`: whitespace cuts;
//! - quoted, or escaped: it belongs to the word, even a space (`"a b"`, `a\ b`).
//!
//! A word must have at least one character: `""` alone makes none (BuildKit drops empty
//! words, where a shell would keep an empty argument).

// ANCHOR: word_splitting
/// Words being cut out of an expansion as its characters arrive.
#[derive(Debug, Default)]
pub(super) struct Fields {
    done: Vec<String>,
    current: String,
}

impl Fields {
    /// An unquoted character: whitespace ends the word being built, anything else extends it.
    pub(super) fn push_splittable(&mut self, c: char) {
        if c.is_whitespace() {
            self.end_word();
        } else {
            self.current.push(c);
        }
    }

    /// A quoted or escaped character: part of the word, whatever it is.
    pub(super) fn push_literal(&mut self, c: char) {
        self.current.push(c);
    }

    /// Text that whitespace cuts (an unquoted variable's value).
    pub(super) fn push_splittable_str(&mut self, text: &str) {
        text.chars().for_each(|c| self.push_splittable(c));
    }

    /// Text that stays whole (a quoted string).
    pub(super) fn push_literal_str(&mut self, text: &str) {
        self.current.push_str(text);
    }

    /// The words, the last one included.
    pub(super) fn finish(mut self) -> Vec<String> {
        self.end_word();
        self.done
    }

    fn end_word(&mut self) {
        if !self.current.is_empty() {
            self.done.push(std::mem::take(&mut self.current));
        }
    }
}
// ANCHOR_END: word_splitting

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_whitespace_cuts_and_runs_of_it_cut_once() {
        let mut fields = Fields::default();
        fields.push_splittable_str("  a b\t\n c  ");
        assert_eq!(fields.finish(), ["a", "b", "c"]);
    }

    #[test]
    fn literal_whitespace_stays_in_the_word() {
        let mut fields = Fields::default();
        fields.push_splittable('a');
        fields.push_literal(' ');
        fields.push_literal_str(" b ");
        fields.push_splittable(' ');
        fields.push_splittable('c');
        assert_eq!(fields.finish(), ["a  b ", "c"]);
    }

    #[test]
    fn an_empty_quoted_string_makes_no_word() {
        let mut fields = Fields::default();
        fields.push_literal_str("");
        fields.push_splittable(' ');
        fields.push_literal_str("");
        assert!(fields.finish().is_empty());
    }
}
