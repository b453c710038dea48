//! # Reading a compose file: YAML to a plain tree
//!
//! The first step of the load pipeline turns the text of `compose.yaml` into a tree of maps,
//! lists and scalars, before anything knows what a service is. compose-go does the same
//! (`map[string]any`); here the tree is a [`serde_json::Value`], which the interpolation step
//! then rewrites in place.
//!
//! What YAML brings that JSON does not, and what this step does with it:
//!
//! - **Anchors and aliases** (`&base` … `*base`) are replayed: the tree holds a copy where each
//!   alias stood. Replaying is what makes the "billion laughs" possible: nine levels of ten
//!   aliases each are a few hundred bytes of YAML and a billion nodes of tree. The parser counts
//!   every replayed event and gives up past [`MAX_REPLAYED_EVENTS`], far above any real compose
//!   file (compose-go's full example, every attribute, replays none; a file leaning hard on
//!   anchors replays hundreds).
//! - **Merge keys** (`<<: *base`, `<<: [*a, *b]`, YAML 1.1) copy a mapping's entries into
//!   another: keys written in the mapping itself win, and of several merged maps the first one
//!   that has a key wins.
//! - **Tags**: compose gives two local tags a meaning for the merge of several files: `!reset`
//!   (drop what an earlier file set) and `!override` (replace instead of merging). They stay in
//!   the tree as a one-entry object, `{"!reset": value}` / `{"!override": value}`, which the
//!   merge step reads ([`RESET_TAG`], [`OVERRIDE_TAG`]). Other tags are ignored as compose-go
//!   ignores them: the value stays, the tag goes.
//! - **Keys that are not strings**: JSON keys are strings, and compose's too. A scalar key keeps
//!   the text it was written with, as go-yaml does when it decodes into `map[string]any`:
//!   `1: x` → `"1"`, `0x10: x` → `"0x10"`, `true: x` → `"true"`. A null key (`~: x`), a mapping or
//!   a list as a key is an error. Two equal keys in one mapping are an error too (go-yaml's).
//! - **Numbers that JSON cannot hold**: `.inf`, `-.inf` and `.nan` become the strings `"+Inf"`,
//!   `"-Inf"` and `"NaN"` (Go's spelling of them); no compose attribute takes one.
//! - **An empty file** (or one with only comments) is an empty mapping, as compose-go reads it.
//! - **A number with a leading zero** is octal, as go-yaml reads it (YAML 1.1): a secret's
//!   `mode: 0440` is 288, the mode `r--r-----`, not four hundred and forty.
//!
//! ## Why `serde-saphyr`
//!
//! `serde_yaml` is deprecated (2024). Its forks `serde_yaml_ng` (last release May 2024) and
//! `serde_norway` (December 2024) keep its design on `unsafe-libyaml`, a machine translation of
//! C libyaml, and have not moved since. `serde-saphyr` (2.2, November 2026, released every few
//! weeks) is pure safe Rust on its own maintained parser, passes the YAML test suite, does merge
//! keys, limits alias replay ([`serde_saphyr::options::AliasLimits`]) and other resource use
//! ([`serde_saphyr::Budget`]), captures a node's tag ([`serde_saphyr::Tagged`]), keeps a
//! scalar's spelling when it is read as a string (the keys above), and gives a line and column
//! with each error. Its `Spanned<T>` could give each node its position as well; the tree here
//! does not keep them yet (errors found later name a path such as `services.web.ports[1]`).
//! It asks for Rust 1.89.
//!
//! ## Errors
//!
//! One line: the file, the line and column where the parser knows them, and what is wrong:
//! `compose.yaml:3:7: …`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Tagged;
use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy};

/// The tag that tells the merge step to drop what earlier files set for this attribute.
pub const RESET_TAG: &str = "!reset";
/// The tag that tells the merge step to replace this attribute instead of merging into it.
pub const OVERRIDE_TAG: &str = "!override";

/// How many parser events alias replay may add to one file before it is refused as an alias
/// bomb. A replayed alias of a ten-entry service costs a few dozen; a billion laughs, billions.
pub const MAX_REPLAYED_EVENTS: usize = 100_000;

/// A compose file that is not YAML, or YAML that is not a tree compose can read.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.display(), position(*line, *column))]
pub struct YamlError {
    /// The file being read.
    pub file: PathBuf,
    /// 1-based line, when the parser knows where.
    pub line: Option<u64>,
    /// 1-based column, when the parser knows where.
    pub column: Option<u64>,
    /// What is wrong, one line.
    pub message: String,
}

fn position(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

/// Parses the text of a compose file into a plain tree. `file` only names it in errors.
pub fn parse(text: &str, file: &Path) -> Result<Value, YamlError> {
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::Error,
        merge_keys: MergeKeyPolicy::Merge,
        // `mode: 0440` is octal, as go-yaml (and so Compose) reads a leading zero.
        legacy_octal_numbers: true,
        // `yes`, `on`, `y` are strings, as go-yaml v3 (YAML 1.2) reads them: `DEBUG: yes` is
        // the text "yes", and a service may be named `n`.
        strict_booleans: true,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
        },
        // Our own bound on alias replay above stops alias bombs; the budget's other rule, few
        // aliases per anchor, would refuse a hundred services merging one `&base`.
        budget: serde_saphyr::budget! {
            enforce_alias_anchor_ratio: false,
        },
        // `.inf` and `.nan` reach the visitor, which spells them as Go does.
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        // The position goes into our own one-line message, not a source excerpt.
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Option<Tree>>(text, options) {
        Ok(Some(tree)) => Ok(tree.0),
        Ok(None) => Ok(Value::Object(Map::new())),
        Err(err) => Err(yaml_error(&err, file)),
    }
}

fn yaml_error(err: &serde_saphyr::Error, file: &Path) -> YamlError {
    let location = err.location();
    // The message alone: the parser may append its own "at line …" or a snippet; we say where
    // in our own prefix, on one line.
    let message = err.without_snippet().to_string();
    let message = message.lines().next().unwrap_or_default();
    let message = strip_position_suffix(message);
    // A hint about the library's own options means nothing to whoever wrote the file.
    let message = message
        .split_once(", set DuplicateKeyPolicy")
        .map_or(message, |(message, _)| message);
    YamlError {
        file: file.to_path_buf(),
        line: location.map(|l| l.line()).filter(|&l| l > 0),
        column: location.map(|l| l.column()).filter(|&c| c > 0),
        message: message.to_owned(),
    }
}

/// Removes a trailing ` at line N column M` that the parser may add, so the position is said
/// once.
fn strip_position_suffix(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains("column") => message[..at].trim_end(),
        _ => message,
    }
}

/// One node of the tree, read from any YAML node: the [`Value`] it becomes.
struct Tree(Value);

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor).map(Tree)
    }
}

/// A node with its tag, as it goes into its parent: `!reset` and `!override` wrap it.
fn tagged(node: Tagged<Tree>) -> Value {
    let Tagged(Tree(value), tag) = node;
    match tag.as_deref() {
        Some(tag @ (RESET_TAG | OVERRIDE_TAG)) => {
            Value::Object(Map::from_iter([(tag.to_owned(), value)]))
        }
        _ => value,
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        // Beyond 64 bits: keep the digits, as no compose attribute takes such a number.
        Ok(Value::String(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(match Number::from_f64(v) {
            Some(n) => Value::Number(n),
            None if v.is_nan() => Value::String("NaN".into()),
            None if v > 0.0 => Value::String("+Inf".into()),
            None => Value::String("-Inf".into()),
        })
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        // `!!binary`: compose has no binary attribute; keep it as text when it is text.
        match std::str::from_utf8(v) {
            Ok(s) => Ok(Value::String(s.to_owned())),
            Err(_) => Err(E::custom("a !!binary value that is not UTF-8 text")),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Tagged<Tree>>()? {
            items.push(tagged(item));
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Map::new();
        // A key read as a string keeps its YAML spelling (`0x10` stays "0x10"); merge keys
        // (`<<`) have already been applied by the parser, and duplicates refused.
        while let Some(key) = map.next_key::<Option<String>>()? {
            let Some(key) = key else {
                return Err(de::Error::custom("a mapping key is null"));
            };
            let value = tagged(map.next_value::<Tagged<Tree>>()?);
            entries.insert(key, value);
        }
        Ok(Value::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Value {
        parse(text, Path::new("compose.yaml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fail(text: &str) -> String {
        match parse(text, Path::new("compose.yaml")) {
            Ok(tree) => panic!("parsed: {tree}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn scalars_lists_and_maps() {
        let tree = read(
            "services:\n  web:\n    image: nginx\n    ports: [\"80:80\", 443]\n    \
             init: true\n    cpus: 0.5\n    command: ~\n",
        );
        assert_eq!(
            tree,
            json!({"services": {"web": {
                "image": "nginx", "ports": ["80:80", 443], "init": true, "cpus": 0.5,
                "command": null}}})
        );
    }

    #[test]
    fn only_true_and_false_are_booleans() {
        let tree = parse(
            "a: yes\nb: on\nc: true\nd: n\ne: False\n",
            Path::new("c.yaml"),
        )
        .unwrap();
        assert_eq!(
            tree,
            serde_json::json!({"a": "yes", "b": "on", "c": true, "d": "n", "e": false})
        );
    }

    #[test]
    fn a_leading_zero_is_octal() {
        let tree = read("mode: 0440\nport: 80\nzero: 0\nhalf: 0.5\nquoted: '0440'\n");
        assert_eq!(
            tree,
            json!({"mode": 288, "port": 80, "zero": 0, "half": 0.5, "quoted": "0440"})
        );
    }

    #[test]
    fn anchors_and_aliases_are_copied() {
        let tree = read("x-env: &env\n  A: 1\nservices:\n  a:\n    environment: *env\n");
        assert_eq!(tree["services"]["a"]["environment"], json!({"A": 1}));
        assert_eq!(
            tree["x-env"],
            json!({"A": 1}),
            "x- extension fields stay in the tree"
        );
    }

    #[test]
    fn merge_key_explicit_keys_win() {
        let tree = read(
            "x-base: &base\n  image: base\n  restart: always\n\
             services:\n  web:\n    <<: *base\n    image: web\n",
        );
        assert_eq!(
            tree["services"]["web"],
            json!({"image": "web", "restart": "always"})
        );
    }

    #[test]
    fn merge_key_explicit_key_before_merge_still_wins() {
        let tree = read("a: &a\n  k: from-a\nm:\n  k: mine\n  <<: *a\n");
        assert_eq!(tree["m"], json!({"k": "mine"}));
    }

    #[test]
    fn merge_key_list_first_map_wins() {
        let tree = read(
            "a: &a\n  k: from-a\n  only-a: 1\nb: &b\n  k: from-b\n  only-b: 2\n\
             m:\n  <<: [*a, *b]\n  own: 3\n",
        );
        assert_eq!(
            tree["m"],
            json!({"k": "from-a", "only-a": 1, "only-b": 2, "own": 3})
        );
    }

    #[test]
    fn merge_key_of_a_scalar_is_an_error() {
        let message = fail("a: &a 1\nm:\n  <<: *a\n");
        assert!(message.starts_with("compose.yaml:"), "{message}");
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..=9 {
            let prev = level - 1;
            let refs = vec![format!("*a{prev}"); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        let message = fail(&text);
        assert!(message.starts_with("compose.yaml:"), "{message}");
        assert!(message.contains("alias replay limit exceeded"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }

    #[test]
    fn many_small_aliases_are_fine() {
        // A hundred services sharing one anchored block: well under the limit.
        let mut text = String::from("x-base: &base\n  image: busybox\n  init: true\nservices:\n");
        for n in 0..100 {
            text.push_str(&format!("  s{n}:\n    <<: *base\n"));
        }
        let tree = read(&text);
        assert_eq!(tree["services"]["s99"]["image"], "busybox");
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let err = parse(
            "services:\n  web:\n    image: [nginx\n",
            Path::new("dir/compose.yaml"),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("dir/compose.yaml:"), "{message}");
        assert!(err.line.is_some() && err.column.is_some(), "{err:?}");
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(
            !message.contains("at line"),
            "position said once: {message}"
        );
    }

    #[test]
    fn error_line_is_where_the_problem_is() {
        let err = parse("a: 1\nb: 2\na: 3\n", Path::new("compose.yaml")).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert_eq!(err.message, "duplicate mapping key: a", "{err}");
    }

    #[test]
    fn reset_and_override_tags_stay_visible() {
        let tree = read(
            "services:\n  web:\n    ports: !reset []\n    build: !reset null\n    \
             environment: !override\n      A: 1\n    volumes: [!override /a:/b]\n",
        );
        let web = &tree["services"]["web"];
        assert_eq!(web["ports"], json!({"!reset": []}));
        assert_eq!(web["build"], json!({"!reset": null}));
        assert_eq!(web["environment"], json!({"!override": {"A": 1}}));
        assert_eq!(web["volumes"], json!([{"!override": "/a:/b"}]));
    }

    #[test]
    fn other_tags_are_dropped() {
        let tree = read("a: !!str 123\nb: !custom value\n");
        assert_eq!(tree, json!({"a": "123", "b": "value"}));
    }

    #[test]
    fn keys_keep_their_spelling() {
        let tree = read("1: a\n0x10: b\ntrue: c\n1.50: d\n\"q\": f\n");
        let keys: Vec<&str> = tree
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in ["1", "0x10", "true", "1.50", "q"] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
    }

    #[test]
    fn null_key_is_an_error() {
        let message = fail("~: x\n");
        assert!(message.contains("null"), "{message}");
    }

    #[test]
    fn mapping_as_key_is_an_error() {
        let message = fail("? {a: 1}\n: x\n");
        assert!(message.starts_with("compose.yaml:"), "{message}");
    }

    #[test]
    fn non_finite_floats_become_strings() {
        let tree = read("a: .inf\nb: -.inf\nc: .nan\n");
        assert_eq!(tree, json!({"a": "+Inf", "b": "-Inf", "c": "NaN"}));
    }

    #[test]
    fn empty_file_is_an_empty_mapping() {
        assert_eq!(read(""), json!({}));
        assert_eq!(read("# nothing\n"), json!({}));
    }
}
