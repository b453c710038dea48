//! Loading a Compose project: files merged, environment, name, profiles, `depends_on`, and
//! `compose config` on the command line. No root needed: nothing runs.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ch06_compose::compose::project::normalize_project_name;
use ch06_compose::compose::schema::{SERVICE_KEYS, TOP_LEVEL_KEYS};
use ch06_compose::compose::{LoadOptions, load};
use serde_json::{Value, json};

/// The Compose corpus (see `dockyard_tests::conformance_corpus`).
fn corpus() -> Option<PathBuf> {
    dockyard_tests::conformance_corpus("compose")
}

/// Options for the files in `dir`, with `environment` as the process environment.
fn options(dir: &Path, files: &[&str], environment: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        files: files.iter().map(PathBuf::from).collect(),
        working_dir: dir.to_path_buf(),
        environment: environment
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..LoadOptions::default()
    }
}

/// A temporary project directory named `name` holding `files`.
fn project_dir(name: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    (temp, dir)
}

fn load_err(options: &LoadOptions) -> String {
    load(options)
        .expect_err("the project must be refused")
        .to_string()
}

#[test]
fn dependency_cycles_are_refused_naming_the_services() {
    let Some(corpus) = corpus() else { return };
    let testdata = corpus.join("compose-go/loader/testdata");
    let error = load_err(&options(&testdata, &["compose-depends-on-cycle.yaml"], &[]));
    assert_eq!(
        error,
        "dependency cycle detected: service1 -> service2 -> service3 -> service1"
    );
    let error = load_err(&options(&testdata, &["compose-depends-on-self.yaml"], &[]));
    assert_eq!(error, "dependency cycle detected: service1 -> service1");
}

#[test]
fn profiles_enable_services_and_dependencies_follow() {
    let (_temp, dir) = project_dir(
        "app",
        &[(
            "compose.yaml",
            "services:
  web: {image: web, depends_on: [db]}
  db: {image: db}
  debug: {image: debug, profiles: [debug], depends_on: {web: {condition: service_healthy}}}
  tools: {image: tools, profiles: [tools, debug]}
",
        )],
    );
    let project = load(&options(&dir, &[], &[])).unwrap();
    assert_eq!(project.dependency_order(), ["db", "web"]);
    assert_eq!(project.profiles(), ["debug", "tools"]);

    let mut with_debug = options(&dir, &[], &[]);
    with_debug.profiles = vec!["debug".into()];
    let project = load(&with_debug).unwrap();
    assert_eq!(project.dependency_order(), ["db", "web", "debug", "tools"]);
    assert_eq!(
        project.services["debug"]["depends_on"],
        json!({"web": {"condition": "service_healthy", "required": true}})
    );

    // COMPOSE_PROFILES, from the environment, when no --profile is given; `*` is every one.
    let project = load(&options(&dir, &[], &[("COMPOSE_PROFILES", "*")])).unwrap();
    assert_eq!(project.services.len(), 4);
}

#[test]
fn a_dependency_on_a_disabled_or_missing_service_is_refused() {
    let (_temp, dir) = project_dir(
        "app",
        &[(
            "compose.yaml",
            "services:
  web: {image: web, depends_on: [db]}
  db: {image: db, profiles: [data]}
",
        )],
    );
    assert_eq!(
        load_err(&options(&dir, &[], &[])),
        r#"service "web" depends on undefined service "db""#
    );
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web: {image: web, depends_on: {db: {condition: service_started, required: false}, cache: {required: true}}}\n  cache: {}\n",
    )
    .unwrap();
    let project = load(&options(&dir, &[], &[])).unwrap();
    // An optional dependency on a service that is not there is dropped.
    assert_eq!(
        project.services["web"]["depends_on"],
        json!({"cache": {"condition": "service_started", "required": true}})
    );
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web: {depends_on: [nope]}\n",
    )
    .unwrap();
    assert_eq!(
        load_err(&options(&dir, &[], &[])),
        r#"service "web" depends on undefined service "nope""#
    );
}

/// `-p`, the environment, the file's `name:`, the directory's name, and the name (or the
/// start of the error) they give.
type NameCase<'a> = (
    Option<&'a str>,
    &'a [(&'a str, &'a str)],
    Option<&'a str>,
    &'a str,
    Result<&'a str, &'a str>,
);

#[test]
fn project_name_rules() {
    let cases: &[NameCase] = &[
        // -p, COMPOSE_PROJECT_NAME, name:, directory → the name (or the error)
        (
            Some("cli"),
            &[("COMPOSE_PROJECT_NAME", "env")],
            Some("file"),
            "Dir",
            Ok("cli"),
        ),
        (
            None,
            &[("COMPOSE_PROJECT_NAME", "env")],
            Some("file"),
            "Dir",
            Ok("env"),
        ),
        (None, &[], Some("file"), "Dir", Ok("file")),
        (None, &[], None, "My Project.Dir", Ok("myprojectdir")),
        (None, &[], None, "__x", Ok("x")),
        (
            None,
            &[],
            None,
            "...",
            Err("project name must not be empty"),
        ),
        (
            Some("My_App"),
            &[],
            None,
            "dir",
            Err(
                r#"invalid project name "My_App": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"#,
            ),
        ),
        (
            Some("_app"),
            &[],
            None,
            "dir",
            Err(r#"invalid project name "_app""#),
        ),
        (
            None,
            &[("COMPOSE_PROJECT_NAME", "Env")],
            None,
            "dir",
            Err(r#"invalid project name "Env""#),
        ),
        (
            None,
            &[],
            Some("File Name"),
            "dir",
            Err(r#"invalid project name "File Name""#),
        ),
        // `name:` is interpolated like every other value.
        (
            None,
            &[("N", "from-var")],
            Some("${N}"),
            "dir",
            Ok("from-var"),
        ),
    ];
    for (cli, environment, name, dir_name, expected) in cases {
        let text = match name {
            Some(name) => format!("name: {name:?}\nservices: {{}}\n"),
            None => "services: {}\n".to_owned(),
        };
        let (_temp, dir) = project_dir(dir_name, &[("compose.yaml", &text)]);
        let mut options = options(&dir, &[], environment);
        options.project_name = cli.map(str::to_owned);
        let context = format!("-p {cli:?}, env {environment:?}, name: {name:?}, dir {dir_name:?}");
        match (load(&options), expected) {
            (Ok(project), Ok(expected)) => assert_eq!(project.name, *expected, "{context}"),
            (Err(error), Err(expected)) => {
                assert!(
                    error.to_string().starts_with(expected),
                    "{context}: {error}"
                )
            }
            (got, _) => panic!("{context}: got {got:?}, expected {expected:?}"),
        }
    }
    assert_eq!(normalize_project_name("Hello World_-1"), "helloworld_-1");
}

#[test]
fn dotenv_feeds_interpolation_and_the_environment_wins() {
    let (_temp, dir) = project_dir(
        "app",
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    image: \"app:${TAG}\"\n    environment: [\"FROM_FILE=${ONLY_IN_FILE}\", \"DERIVED=${DERIVED}\"]\n",
            ),
            (".env", "TAG=prod\nONLY_IN_FILE=file\nDERIVED=${TAG}-x\n"),
            ("other.env", "TAG=other\n"),
        ],
    );
    let project = load(&options(&dir, &[], &[])).unwrap();
    assert_eq!(project.services["web"]["image"], "app:prod");
    assert_eq!(
        project.services["web"]["environment"],
        json!({"FROM_FILE": "file", "DERIVED": "prod-x"})
    );
    // The process environment wins over `.env`, also inside `.env`'s own `${TAG}`.
    let project = load(&options(&dir, &[], &[("TAG", "dev")])).unwrap();
    assert_eq!(project.services["web"]["image"], "app:dev");
    assert_eq!(project.services["web"]["environment"]["DERIVED"], "dev-x");
    assert_eq!(project.environment["ONLY_IN_FILE"], "file");
    // --env-file replaces `.env`.
    let mut with_env_file = options(&dir, &[], &[]);
    with_env_file.env_files = vec!["other.env".into()];
    let project = load(&with_env_file).unwrap();
    assert_eq!(project.services["web"]["image"], "app:other");
    assert_eq!(project.services["web"]["environment"]["FROM_FILE"], "");
}

#[test]
fn several_files_merge_in_order() {
    let (_temp, dir) = project_dir(
        "app",
        &[
            (
                "compose.yaml",
                "services:
  web:
    image: web:1
    command: [serve, --port, '80']
    ports: ['80:80']
    environment: [A=1, B=2]
    volumes: [data:/data]
  db: {image: db}
volumes: {data: {}}
",
            ),
            (
                "compose.override.yaml",
                "services:
  web:
    image: web:2
    command: [serve]
    ports: ['443:443']
    environment: {B: '3', C: '4'}
    volumes: !reset []
  cache: {image: cache}
networks: {front: {}}
x-shared: yes
",
            ),
        ],
    );
    let project = load(&options(
        &dir,
        &["compose.yaml", "compose.override.yaml"],
        &[],
    ))
    .unwrap();
    assert_eq!(
        project.services["web"],
        json!({
            "image": "web:2",
            "command": ["serve"],
            // Appended, then in the long form (compose/normalize.rs).
            "ports": [
                {"mode": "ingress", "target": 80, "published": "80", "protocol": "tcp"},
                {"mode": "ingress", "target": 443, "published": "443", "protocol": "tcp"}
            ],
            "environment": {"A": "1", "B": "3", "C": "4"}
        })
    );
    assert_eq!(
        project.services.keys().collect::<Vec<_>>(),
        ["cache", "db", "web"]
    );
    assert!(project.volumes.contains_key("data"));
    assert!(project.networks.contains_key("front"));
    // `yes` is text, as go-yaml v3 reads it (only true and false are booleans).
    assert_eq!(project.extensions["x-shared"], json!("yes"));
    // The project directory is the first file's: its name names the project.
    assert_eq!(project.name, "app");
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    let (_temp, dir) = project_dir(
        "app",
        &[("compose.yaml", "services:\n  web:\n    imgae: nginx\n")],
    );
    assert_eq!(
        load_err(&options(&dir, &[], &[])),
        format!(
            r#"validating {}: services.web: additional property "imgae" is not allowed"#,
            dir.join("compose.yaml").display()
        )
    );
    std::fs::write(
        dir.join("compose.yaml"),
        "services: {}\nx-ok: 1\nservice: {}\n",
    )
    .unwrap();
    assert!(
        load_err(&options(&dir, &[], &[]))
            .ends_with(r#"additional property "service" is not allowed"#)
    );
}

#[test]
fn key_lists_match_the_schema() {
    let Some(corpus) = corpus() else { return };
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("compose-go/schema/compose-spec.json")).unwrap(),
    )
    .unwrap();
    let keys = |value: &Value| {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let sorted = |list: &[&str]| {
        let mut list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        list.sort();
        list
    };
    assert_eq!(keys(&schema["properties"]), sorted(TOP_LEVEL_KEYS));
    assert_eq!(
        keys(&schema["$defs"]["service"]["properties"]),
        sorted(SERVICE_KEYS)
    );
}

#[test]
fn interpolation_errors_name_the_file_and_the_path() {
    let (_temp, dir) = project_dir(
        "app",
        &[(
            "compose.yaml",
            "services:\n  web:\n    image: nginx\n    ports: ['${PORT:?set PORT}:80']\n",
        )],
    );
    assert_eq!(
        load_err(&options(&dir, &[], &[])),
        format!(
            "{}: services.web.ports[0]: required variable PORT is missing a value: set PORT",
            dir.join("compose.yaml").display()
        )
    );
}

fn full_example_env(command: &mut Command) -> &mut Command {
    command
        .env("HOME", "/home/example")
        .env("BAR", "this is a secret")
        .env("QUX", "qux_from_environment")
}

#[test]
fn config_lists_the_full_examples_services_and_volumes() {
    let Some(corpus) = corpus() else { return };
    let example = corpus.join("compose-go-full-example/loader/full-example.yml");
    let run = |flag: &str| {
        let output = full_example_env(&mut Command::cargo_bin("ch06-compose").unwrap())
            .arg("compose")
            .arg("-f")
            .arg(&example)
            .args(["config", "--no-consistency", flag])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(run("--services"), "bar\nfoo\n");
    assert_eq!(
        run("--volumes"),
        "another-volume\nexternal-volume\nexternal-volume3\nother-external-volume\nother-volume\nsome-volume\n"
    );
    // Without --no-consistency, `foo`'s depends_on names services the file does not define.
    let output = full_example_env(&mut Command::cargo_bin("ch06-compose").unwrap())
        .arg("compose")
        .arg("-f")
        .arg(&example)
        .args(["config", "--services"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "ch06-compose: service \"foo\" depends on undefined service \"db\" (hint: define the service, or make the dependency optional with required: false)\n"
    );
}

#[test]
fn config_prints_the_project_as_json_and_yaml() {
    let (_temp, dir) = project_dir(
        "app",
        &[(
            "compose.yaml",
            "services:\n  web: {image: nginx, depends_on: [db]}\n  db: {image: postgres}\n",
        )],
    );
    let config = |args: &[&str]| {
        Command::cargo_bin("ch06-compose")
            .unwrap()
            .current_dir(&dir)
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_PROFILES")
            .env_remove("COMPOSE_FILE")
            .args(["compose", "config"])
            .args(args)
            .output()
            .unwrap()
    };
    let output = config(&["--format", "json"]);
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        printed,
        json!({"name": "app", "services": {
            "db": {"image": "postgres"},
            "web": {"image": "nginx", "depends_on": {"db": {"condition": "service_started", "required": true}}}
        }})
    );
    let output = config(&[]);
    assert!(output.status.success(), "{output:?}");
    let yaml = String::from_utf8(output.stdout).unwrap();
    assert!(yaml.starts_with("name: app\nservices:\n  db:\n"), "{yaml}");
    assert_eq!(
        String::from_utf8(config(&["--services"]).stdout).unwrap(),
        "db\nweb\n"
    );
    // A bad file: one line, status 1 as Docker Compose.
    std::fs::write(dir.join("compose.yaml"), "services: [\n").unwrap();
    let output = config(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1);
}

#[test]
fn default_files_are_found_with_their_override_and_from_a_subdirectory() {
    let (_temp, dir) = project_dir(
        "app",
        &[
            ("docker-compose.yaml", "services: {ignored: {}}\n"),
            ("docker-compose.yml", "services: {old: {}}\n"),
            ("compose.yml", "services: {web: {image: a}}\n"),
            ("compose.override.yaml", "services: {web: {image: b}}\n"),
            ("other.yaml", "services: {other: {}}\n"),
        ],
    );
    std::fs::create_dir(dir.join("sub")).unwrap();
    let project = load(&options(&dir.join("sub"), &[], &[])).unwrap();
    assert_eq!(project.name, "app");
    assert_eq!(project.working_dir, dir);
    assert_eq!(project.services.keys().collect::<Vec<_>>(), ["web"]);
    assert_eq!(project.services["web"]["image"], "b");
    std::fs::remove_file(dir.join("compose.yml")).unwrap();
    let project = load(&options(&dir, &[], &[])).unwrap();
    // compose-go prefers docker-compose.yml to docker-compose.yaml.
    assert_eq!(project.services.keys().collect::<Vec<_>>(), ["old", "web"]);
    // COMPOSE_FILE replaces the search, its list split on COMPOSE_PATH_SEPARATOR.
    let project = load(&options(
        &dir,
        &[],
        &[
            ("COMPOSE_FILE", "other.yaml;docker-compose.yml"),
            ("COMPOSE_PATH_SEPARATOR", ";"),
        ],
    ))
    .unwrap();
    assert_eq!(
        project.services.keys().collect::<Vec<_>>(),
        ["old", "other"]
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(
        load_err(&options(empty.path(), &[], &[])).starts_with("no configuration file provided")
    );
}

#[test]
fn a_dependency_hidden_by_a_profile_gets_a_hint() {
    use dockyard_support::EngineError;
    let (_temp, dir) = project_dir(
        "app",
        &[(
            "compose.yaml",
            "services:\n  web: {depends_on: [db]}\n  db: {profiles: [data]}\n",
        )],
    );
    let error = load(&options(&dir, &[], &[])).unwrap_err();
    assert_eq!(
        error.hint().as_deref(),
        Some("db is only enabled by profile data: add --profile data")
    );
    let output = Command::cargo_bin("ch06-compose")
        .unwrap()
        .current_dir(&dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .args(["compose", "config", "--services"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "ch06-compose: service \"web\" depends on undefined service \"db\" (hint: db is only enabled by profile data: add --profile data)\n"
    );
}
