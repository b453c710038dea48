//! The canonical long form against compose-go's: the "full example" (every attribute of the
//! Compose Specification) loaded and compared, service by service and section by section,
//! with the JSON compose-go printed for it (`/work/shared/conformance/compose/`, see its
//! `SOURCES.md`); and every example of the specification still loads. No root needed.
//!
//! The few places where our project differs from compose-go's JSON are listed in
//! [`KNOWN_DIFFERENCES`], each with why: the test checks that compose-go's file says what the
//! list says it does, puts our value in its place, and then wants the two to be equal, so a
//! difference that is fixed, or a new one, fails the test.

use std::path::{Path, PathBuf};

use ch06_compose::compose::{ComposeError, LoadOptions, load};
use serde_json::{Value, json};

/// The Compose corpus (see `dockyard_tests::conformance_corpus`).
fn corpus() -> Option<PathBuf> {
    dockyard_tests::conformance_corpus("compose")
}

/// The `$HOME` the example is loaded with (its `~/configs` and `~/config_data`).
const HOME: &str = "/home/example";

/// One place where our JSON and compose-go's differ.
struct Difference {
    /// Where, as a JSON pointer into the project.
    pointer: &'static str,
    /// What compose-go's JSON has there (`None`: nothing).
    compose_go: Option<Value>,
    /// What ours has there (`None`: nothing).
    ours: Option<Value>,
}

/// Every difference between our project and compose-go's JSON for the full example.
fn known_differences() -> Vec<Difference> {
    let mut differences = vec![
        // Go prints a service's nil `command`/`entrypoint` as `null` (its struct field has no
        // `omitempty` in JSON); we leave an attribute the file did not set out. Both mean
        // "the image's".
        Difference {
            pointer: "/services/bar/command",
            compose_go: Some(Value::Null),
            ours: None,
        },
        Difference {
            pointer: "/services/bar/entrypoint",
            compose_go: Some(Value::Null),
            ours: None,
        },
    ];
    // compose-go prints a network's IPAM block even when empty: a Go struct, not a pointer,
    // without `omitempty` in JSON (its YAML leaves it out). We leave out what was not written.
    for network in ["external-network", "other-external-network", "some-network"] {
        differences.push(Difference {
            pointer: leak(format!("/networks/{network}/ipam")),
            compose_go: Some(json!({})),
            ours: None,
        });
    }
    // A short-syntax bind mount creates its host path when missing. compose-go's type for
    // the flag (`OptOut`) leaves `true` out of its JSON, as the default; we print it, because
    // the engine reads the flag as it is written and its default is `false` (the long
    // syntax's).
    for index in 1..=4 {
        differences.push(Difference {
            pointer: leak(format!(
                "/services/foo/volumes/{index}/bind/create_host_path"
            )),
            compose_go: None,
            ours: Some(json!(true)),
        });
    }
    // `x-*` extensions inside a service or a top-level resource: compose-go's JSON drops
    // them (its struct field is `json:"-"`) but its YAML keeps them; we keep them in both,
    // as the user's own data.
    for owner in [
        "/services/foo",
        "/networks/other-external-network",
        "/volumes/external-volume3",
        "/configs/config4",
        "/secrets/secret4",
    ] {
        for (key, value) in [("x-bar", "baz"), ("x-foo", "bar")] {
            differences.push(Difference {
                pointer: leak(format!("{owner}/{key}")),
                compose_go: None,
                ours: Some(json!(value)),
            });
        }
    }
    differences
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Sets (or removes, for `None`) the value at `pointer`, whose parent must exist.
fn put(root: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = root
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}: no parent"));
    match (parent, value) {
        (Value::Object(map), Some(value)) => {
            map.insert(key.to_owned(), value);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value,
        (other, _) => panic!("{pointer}: cannot set in {other}"),
    }
}

/// Paths (JSON pointers) where `a` and `b` differ, with both values.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let at = format!("{at}/{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(x, y, &at, out),
                    (x, y) => out.push(format!("{at}: compose-go {x:?}, ours {y:?}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (index, (x, y)) in x.iter().zip(y).enumerate() {
                differences(x, y, &format!("{at}/{index}"), out);
            }
        }
        (x, y) if x != y => out.push(format!("{at}: compose-go {x}, ours {y}")),
        _ => {}
    }
}

#[test]
fn the_full_example_is_what_compose_go_prints() {
    let Some(corpus) = corpus() else { return };
    let example = corpus.join("compose-go-full-example");
    let loader = std::fs::canonicalize(example.join("loader")).unwrap();
    // As compose-go's test loaded it: this environment, no consistency check (`foo` depends
    // on services the file does not define).
    let options = full_example_options(&loader, loader.join("full-example.yml"));
    let project = load(&options).unwrap();
    let ours = serde_json::to_value(&project).unwrap();

    let text = std::fs::read_to_string(example.join("expected/full-example.normalized.json"))
        .unwrap()
        .replace("@@WORKDIR@@", &loader.display().to_string())
        .replace("@@HOME@@", HOME);
    let mut expected: Value = serde_json::from_str(&text).unwrap();
    for difference in known_differences() {
        assert_eq!(
            expected.pointer(difference.pointer),
            difference.compose_go.as_ref(),
            "{}: compose-go's file no longer says what KNOWN_DIFFERENCES says",
            difference.pointer
        );
        put(&mut expected, difference.pointer, difference.ours);
    }

    // Section by section, service by service, so a failure says where.
    let mut found = Vec::new();
    for section in ["services", "networks", "volumes", "secrets", "configs"] {
        for (name, value) in expected[section].as_object().unwrap() {
            differences(
                value,
                &ours[section][name],
                &format!("/{section}/{name}"),
                &mut found,
            );
        }
    }
    differences(&expected, &ours, "", &mut found);
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The spec's examples that are not a whole compose file, or not one that loads on its own:
/// each with the reason, by the error it gets. Everything else must load.
fn spec_example_refusal(error: &ComposeError) -> Option<&'static str> {
    match error {
        // Fragments (a bare `build:` or `ports:` block) and the eight blocks that repeat a key.
        ComposeError::Schema { .. } => Some("schema"),
        ComposeError::Yaml(_) => Some("yaml"),
        // Examples that name services, files or variables they do not define.
        ComposeError::Dependencies(_) => Some("dependencies"),
        ComposeError::Interpolation { .. } => Some("interpolation"),
        // Examples that name an `env_file` or `label_file` the spec does not ship: Compose
        // refuses a missing one too (an `env_file` unless `required: false`).
        ComposeError::FileNotFound { .. } => Some("missing file"),
        // And examples that include files the spec does not ship.
        ComposeError::Include { message, .. } if message.contains("No such file") => {
            Some("missing file")
        }
        _ => None,
    }
}

#[test]
fn every_spec_example_still_loads() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("compose-spec/spec-examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 175, "the spec's YAML blocks");
    let mut loaded = 0;
    let mut refused = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        let options = LoadOptions {
            files: vec![file.clone()],
            working_dir: dir.clone(),
            project_name: Some("spec".into()),
            skip_consistency_check: true,
            environment: [("HOME", HOME)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..LoadOptions::default()
        };
        match load(&options) {
            Ok(_) => loaded += 1,
            Err(error) => match spec_example_refusal(&error) {
                Some(kind) => refused.push((name_of(file), kind)),
                None => failures.push(format!("{}: {error}", name_of(file))),
            },
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{loaded} loaded, refused: {refused:?}");
    // Before the canonical form was added, 96 loaded: normalization refuses only the one
    // whose `label_file` is not there (`./app.labels`); `include` refuses the five that
    // include files the spec does not ship.
    assert_eq!(loaded, 90, "refused: {refused:?}");
    let missing: Vec<_> = refused
        .iter()
        .filter(|(_, kind)| *kind == "missing file")
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        missing,
        [
            "065.yaml", "170.yaml", "171.yaml", "172.yaml", "173.yaml", "174.yaml"
        ]
    );
}

fn name_of(file: &Path) -> String {
    file.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn compose_project_name_is_the_projects_name_in_the_files() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("shop");
    std::fs::create_dir(&dir).unwrap();
    let image_with = |file_text: &str, project_name: Option<&str>| {
        std::fs::write(dir.join("compose.yaml"), file_text).unwrap();
        let options = LoadOptions {
            working_dir: dir.clone(),
            project_name: project_name.map(str::to_owned),
            environment: [("STAGE", "dev")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..LoadOptions::default()
        };
        let project = load(&options).unwrap();
        project.services["web"]["image"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let web = "services: {web: {image: \"${COMPOSE_PROJECT_NAME}-web\"}}\n";
    assert_eq!(image_with(web, None), "shop-web", "the directory's name");
    assert_eq!(image_with(web, Some("cli")), "cli-web", "-p");
    let named = format!("name: app-${{STAGE}}\n{web}");
    assert_eq!(
        image_with(&named, None),
        "app-dev-web",
        "name:, interpolated"
    );
}

/// The options compose-go's test loaded the full example with.
fn full_example_options(loader: &Path, file: PathBuf) -> LoadOptions {
    LoadOptions {
        files: vec![file],
        working_dir: loader.to_path_buf(),
        environment: [
            ("HOME", HOME),
            ("BAR", "this is a secret"),
            ("QUX", "qux_from_environment"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        skip_consistency_check: true,
        ..LoadOptions::default()
    }
}

#[test]
fn the_canonical_form_is_its_own_canonical_form() {
    // What `compose config` prints loads back to the same project: nothing in the long form
    // is read as something else the second time (a duration, a size, a mode, a path).
    let Some(corpus) = corpus() else { return };
    let loader = std::fs::canonicalize(corpus.join("compose-go-full-example/loader")).unwrap();
    let once = load(&full_example_options(
        &loader,
        loader.join("full-example.yml"),
    ))
    .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let printed = temp.path().join("compose.yaml");
    std::fs::write(&printed, serde_json::to_string_pretty(&once).unwrap()).unwrap();
    let twice = load(&full_example_options(&loader, printed)).unwrap();
    assert_eq!(
        serde_json::to_value(&twice).unwrap(),
        serde_json::to_value(&once).unwrap()
    );
}

#[test]
fn a_bad_short_form_is_refused_naming_where_it_is() {
    let temp = tempfile::tempdir().unwrap();
    let write = |text: &str| std::fs::write(temp.path().join("compose.yaml"), text).unwrap();
    let error = |text: &str| {
        write(text);
        let options = LoadOptions {
            working_dir: temp.path().to_path_buf(),
            project_name: Some("app".into()),
            ..LoadOptions::default()
        };
        load(&options).unwrap_err().to_string()
    };
    assert_eq!(
        error("services:\n  web:\n    image: nginx\n    ports: [\"80\", \"80:x\"]\n"),
        "services.web.ports[1]: invalid port \"80:x\""
    );
    assert_eq!(
        error("services:\n  web:\n    image: nginx\n    stop_grace_period: soon\n"),
        "services.web.stop_grace_period: invalid duration \"soon\""
    );
    // A service no active profile enables is not normalized: its files need not exist.
    write(
        "services:\n  web: {image: nginx}\n  debug: {image: x, profiles: [debug], env_file: gone.env}\n",
    );
    let options = LoadOptions {
        working_dir: temp.path().to_path_buf(),
        project_name: Some("app".into()),
        ..LoadOptions::default()
    };
    assert!(load(&options).is_ok());
}
