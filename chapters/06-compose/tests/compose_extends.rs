//! `extends` and `include`: services built on others, and Compose applications inside
//! others, loaded from the fixtures in `tests/fixtures/compose-extends/` and from compose-go's
//! own test data in the conformance corpus. No root needed: nothing runs.

use std::path::{Path, PathBuf};

use ch06_compose::compose::{LoadOptions, Project, load};
use serde_json::{Value, json};

/// The Compose corpus (see `dockyard_tests::conformance_corpus`).
fn corpus() -> Option<PathBuf> {
    // Without `..` in it: the loaded paths have none.
    dockyard_tests::conformance_corpus("compose").map(|dir| dir.canonicalize().unwrap())
}

/// The fixture directory `name`, absolute.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compose-extends")
        .join(name)
}

fn options(dir: &Path, files: &[&str], environment: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        files: files.iter().map(PathBuf::from).collect(),
        working_dir: dir.to_path_buf(),
        project_name: Some("test".into()),
        environment: environment
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..LoadOptions::default()
    }
}

fn loaded(dir: &Path, files: &[&str], environment: &[(&str, &str)]) -> Project {
    load(&options(dir, files, environment)).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(dir: &Path, files: &[&str]) -> String {
    load(&options(dir, files, &[]))
        .expect_err("the project must be refused")
        .to_string()
}

/// `dir/rest` as the loaded project spells it.
fn path(dir: &Path, rest: &str) -> Value {
    Value::from(dir.join(rest).to_string_lossy().into_owned())
}

/// `dir` as the loaded project spells it.
fn dir_value(dir: &Path) -> Value {
    Value::from(dir.to_string_lossy().into_owned())
}

#[test]
fn a_service_extends_one_of_the_same_file() {
    let dir = fixture("same-file");
    let project = loaded(&dir, &["compose.yaml"], &[("TAG", "1.36")]);
    let web = &project.services["web"];
    assert_eq!(web["image"], "busybox:1.36");
    assert_eq!(web["environment"], json!({"TZ": "utc", "PORT": "8080"}));
    assert_eq!(web["command"], json!(["sleep", "2"]));
    let published: Vec<&Value> = web["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|port| &port["published"])
        .collect();
    assert_eq!(published, [&json!("80"), &json!("443")]);
    assert!(web.get("extends").is_none(), "{web}");
    // `!reset` and `!override` in the extending service.
    let cli = &project.services["cli"];
    assert!(cli.get("command").is_none(), "{cli}");
    assert_eq!(cli["ports"].as_array().unwrap().len(), 1, "{cli}");
    assert_eq!(cli["ports"][0]["published"], "9000");
    // The base is a service of the project as it was written.
    assert_eq!(project.services["base"]["command"], json!(["sleep", "1"]));
}

#[test]
fn a_base_from_another_file_keeps_its_own_directory() {
    let dir = fixture("other-file");
    let project = loaded(&dir, &["compose.yaml"], &[]);
    let web = &project.services["web"];
    // Its build context is the other file's directory, its dockerfile the extending one's.
    assert_eq!(web["build"]["context"], path(&dir, "common"));
    assert_eq!(web["build"]["dockerfile"], "Dockerfile.dev");
    assert_eq!(web["image"], "app:1");
    assert_eq!(
        web["env_file"],
        json!([{"path": path(&dir, "common/app.env")}])
    );
    assert_eq!(web["environment"]["FROM_APP_ENV"], "yes");
    let sources: Vec<&Value> = web["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|volume| &volume["source"])
        .collect();
    assert_eq!(
        sources,
        [
            &path(&dir, "common/data"),
            &json!("cache"),
            &path(&dir, "src")
        ]
    );
}

#[test]
fn chains_cross_files_each_from_its_own_directory() {
    let dir = fixture("chain");
    let project = loaded(&dir, &["compose.yaml"], &[]);
    let a = &project.services["a"];
    assert_eq!(a["labels"], json!({"a": "1", "b": "1", "c": "1", "d": "1"}));
    assert_eq!(a["image"], "d");
    assert_eq!(a["build"]["context"], path(&dir, "lib/deeper"));
    assert_eq!(
        project.services["b"]["labels"],
        json!({"b": "1", "c": "1", "d": "1"})
    );
}

#[test]
fn cycles_are_refused_with_the_chain() {
    let dir = fixture("cycle");
    let compose = dir.join("compose.yaml");
    assert_eq!(
        load_err(&dir, &["compose.yaml"]),
        format!(
            "{}: services.a.extends: circular reference: a -> b -> a",
            compose.display()
        )
    );
    let error = load_err(&dir, &["cross.yaml"]);
    assert_eq!(
        error,
        format!(
            "{}: services.front.extends: circular reference: front -> back ({}) -> front",
            dir.join("cross.yaml").display(),
            dir.join("other.yaml").display()
        )
    );
}

#[test]
fn an_unknown_base_is_refused_naming_it_and_its_file() {
    let dir = fixture("unknown");
    assert_eq!(
        load_err(&dir, &["compose.yaml"]),
        format!(
            "{0}: services.web.extends: service \"nope\" not found in {0}",
            dir.join("compose.yaml").display()
        )
    );
    assert_eq!(
        load_err(&dir, &["other-file.yaml"]),
        format!(
            "{}: services.web.extends: service \"nope\" not found in {}",
            dir.join("other-file.yaml").display(),
            dir.join("base.yaml").display()
        )
    );
    let error = load_err(&dir, &["missing-file.yaml"]);
    assert!(
        error.starts_with(&format!(
            "{}: services.web.extends: cannot read {}: ",
            dir.join("missing-file.yaml").display(),
            dir.join("absent.yaml").display()
        )),
        "{error}"
    );
}

#[test]
fn an_included_project_has_its_own_directory_and_env_file() {
    let dir = fixture("include-env");
    let project = loaded(&dir, &["compose.yaml"], &[]);
    let db = &project.services["db"];
    // `DB_TAG` from db/.env; `WEB_TAG` from the including project's .env, which wins.
    assert_eq!(db["image"], "postgres:15");
    assert_eq!(db["environment"], json!({"DB_TAG": "15", "WEB_TAG": "3"}));
    assert_eq!(db["build"]["context"], path(&dir, "db"));
    assert_eq!(db["volumes"][0]["source"], path(&dir, "db/init"));
    assert_eq!(project.secrets["token"]["file"], path(&dir, "db/token.txt"));
    assert!(project.volumes.contains_key("data"));
    // The including project does not see the included one's variables.
    let web = &project.services["web"];
    assert_eq!(web["image"], "web:3");
    assert_eq!(web["environment"], json!({"DB_TAG": null}));
    // The process environment wins over both .env files.
    let project = loaded(&dir, &["compose.yaml"], &[("DB_TAG", "16")]);
    assert_eq!(project.services["db"]["image"], "postgres:16");
    // `depends_on` may name an included service.
    assert_eq!(project.dependency_order(), ["db", "web"]);
}

#[test]
fn the_including_file_overrides_what_it_imports() {
    let dir = fixture("include-conflict");
    let project = loaded(&dir, &["compose.yaml"], &[]);
    let web = &project.services["web"];
    assert_eq!(web["image"], "web:local");
    assert_eq!(web["environment"], json!({"ONLY": "local"}));
    assert_eq!(web["ports"][0]["published"], "80");
    assert_eq!(project.services["worker"]["image"], "worker");
    assert_eq!(
        project.networks["front"],
        json!({"driver": "bridge", "labels": {"from": "lib"}})
    );
}

#[test]
fn include_cycles_are_refused() {
    let dir = fixture("include-cycle");
    let error = load_err(&dir, &["compose.yaml"]);
    assert_eq!(
        error,
        format!(
            "{1}: include[0]: include cycle detected: {0} -> {1} -> {0}",
            dir.join("compose.yaml").display(),
            dir.join("sub/a.yaml").display()
        )
    );
}

#[test]
fn included_files_extend_and_are_extended() {
    let dir = fixture("include-extends");
    let project = loaded(&dir, &["compose.yaml"], &[]);
    let included = &project.services["included"];
    assert_eq!(included["image"], "from-custom");
    assert_eq!(included["build"]["context"], path(&dir, "dir"));
    assert_eq!(included["environment"], json!({"IMAGE": "from-custom"}));
    let local = &project.services["local"];
    assert_eq!(local["image"], "local");
    assert_eq!(local["build"]["context"], path(&dir, "dir"));
}

// compose-go's own test data (loader/testdata), with what its tests expect of it.

#[test]
fn compose_go_extends_from_a_subdirectory() {
    let Some(corpus) = corpus() else { return };
    let testdata = corpus.join("compose-go/loader/testdata");
    let project = loaded(&testdata, &["compose-test-extends.yaml"], &[]);
    let importer = &project.services["importer"];
    assert_eq!(importer["image"], "nginx");
    assert_eq!(importer["container_name"], "imported");
    // `./extra.env` is relative to the extended file, not to the extending one.
    assert_eq!(
        importer["env_file"],
        json!([{"path": path(&testdata, "subdir/extra.env")}])
    );
    assert_eq!(importer["environment"], json!({"SOURCE": "extends"}));
    assert_eq!(importer["volumes"][0]["source"], "/opt/data");

    let project = loaded(
        &testdata,
        &["compose-test-extends-with-context-url.yaml"],
        &[],
    );
    assert_eq!(
        project.services["importer-with-https-url"]["build"]["context"],
        "https://github.com/docker/compose.git"
    );
}

#[test]
fn compose_go_extends_cases() {
    let Some(corpus) = corpus() else { return };
    let extends = corpus.join("compose-go/loader/testdata/extends");
    let project = loaded(&extends, &["base.yaml"], &[]);
    assert_eq!(project.services["another"]["image"], "base");
    assert_eq!(
        project.services["with-build"]["build"]["context"],
        dir_value(&extends)
    );
    // `command: !reset` in the base is not inherited.
    let project = loaded(&extends, &["reset.yaml"], &[]);
    assert!(project.services["base"].get("command").is_none());
    // A chain through a file of another directory, that extends one beside it.
    let withdir = extends.join("withdir");
    let project = loaded(&withdir, &["compose.yaml"], &[]);
    assert_eq!(project.services["test"]["image"], "hello-world");
    // The interpolated base.
    let project = loaded(&extends, &["interpolated.yaml"], &[]);
    assert_eq!(project.services["foo"]["volumes"][0]["source"], "/dev/null");
}

#[test]
fn compose_go_extends_does_not_import_references() {
    let Some(corpus) = corpus() else { return };
    let temp = tempfile::tempdir().unwrap();
    let base = corpus.join("compose-go/loader/testdata/extends/depends_on.yaml");
    let compose = temp.path().join("compose.yaml");
    std::fs::write(
        &compose,
        format!(
            "services:\n  bar:\n    extends:\n      file: {}\n      service: with_depends_on\n",
            base.display()
        ),
    )
    .unwrap();
    let error = load_err(temp.path(), &["compose.yaml"]);
    assert!(error.contains("zot"), "{error}");
    std::fs::write(
        &compose,
        format!(
            "services:\n  bar:\n    extends:\n      file: {}\n      service: with_depends_on\n  zot:\n    image: zot\n",
            base.display()
        ),
    )
    .unwrap();
    loaded(temp.path(), &["compose.yaml"], &[]);
}

#[test]
fn compose_go_include_cases() {
    let Some(corpus) = corpus() else { return };
    let testdata = corpus.join("compose-go/loader/testdata");
    let project = loaded(&testdata, &["compose-include.yaml"], &[]);
    assert_eq!(project.services["imported"]["container_name"], "imported");
    assert_eq!(
        project.services["imported"]["env_file"],
        json!([{"path": path(&testdata, "subdir/extra.env")}])
    );
    assert_eq!(project.services["bar"]["image"], "bar");

    let error = load_err(&testdata, &["compose-include-cycle.yaml"]);
    assert!(error.contains("include cycle detected"), "{error}");

    let include = testdata.join("include");
    let project = loaded(&include, &["compose.yaml"], &[]);
    let included = &project.services["included"];
    assert_eq!(included["build"]["context"], dir_value(&include));
    assert_eq!(included["volumes"][0]["source"], dir_value(&include));

    // `project_directory: ../subdir`: the included file's paths start there.
    let project = loaded(&include, &["project-directory.yaml"], &[]);
    let service = &project.services["service"];
    assert_eq!(service["build"]["context"], path(&testdata, "subdir"));
    assert_eq!(
        service["volumes"][0]["source"],
        path(&testdata, "subdir/compose-test-extends-imported.yaml")
    );
    assert_eq!(
        service["env_file"],
        json!([{"path": path(&testdata, "subdir/extra.env")}])
    );

    // An included file whose service extends one beside it.
    let combined = testdata.join("combined");
    let project = loaded(&combined, &["compose.yaml"], &[]);
    assert_eq!(
        project.services["service"]["build"]["context"],
        path(&combined, "dir")
    );
}

#[test]
fn an_override_file_extends_the_first_one() {
    let dir = fixture("override");
    let project = loaded(&dir, &["compose.yaml", "override.yaml"], &[]);
    // The inherited port and the first file's are one.
    let ports = project.services["test"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1, "{ports:?}");
    // A `!reset` next to `extends` also resets what the earlier files set.
    assert!(
        project.services["web"].get("ports").is_none(),
        "{}",
        project.services["web"]
    );
}

#[test]
fn override_replaces_an_inherited_depends_on() {
    let dir = fixture("same-file");
    let project = loaded(&dir, &["depends.yaml"], &[]);
    assert_eq!(
        project.services["service_b"]["depends_on"],
        json!({"service_a": {"condition": "service_started", "required": true}})
    );
}

#[test]
fn compose_go_extends_an_empty_service_and_ulimits() {
    let Some(corpus) = corpus() else { return };
    let base = corpus.join("compose-go/loader/testdata/extends/base.yaml");
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("compose.yaml"),
        format!(
            "services:\n  empty:\n    image: x\n    extends:\n      file: {0}\n      service: nil\n  \
             limited:\n    extends:\n      file: {0}\n      service: withUlimits\n",
            base.display()
        ),
    )
    .unwrap();
    let project = loaded(temp.path(), &["compose.yaml"], &[]);
    assert_eq!(project.services["empty"]["image"], "x");
    assert_eq!(project.services["limited"]["ulimits"]["nproc"], 65535);
    assert_eq!(
        project.services["limited"]["ulimits"]["nofile"],
        json!({"soft": 20000, "hard": 40000})
    );
}

#[test]
fn compose_go_includes_one_service_twice() {
    let Some(corpus) = corpus() else { return };
    let testdata = corpus.join("compose-go/loader/testdata");
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("compose.yaml"),
        format!(
            "include:\n  - path: {0}/subdir/compose-test-extends-imported.yaml\n    \
             env_file: {0}/subdir/extra.env\n  - path: {0}/compose-include.yaml\n\
             services:\n  foo:\n    image: busybox\n    depends_on:\n      - imported\n",
            testdata.display()
        ),
    )
    .unwrap();
    // The process environment wins over the include's env_file.
    let project = loaded(temp.path(), &["compose.yaml"], &[("SOURCE", "override")]);
    assert_eq!(project.services["imported"]["container_name"], "override");
    assert_eq!(project.services["bar"]["image"], "bar");
}
