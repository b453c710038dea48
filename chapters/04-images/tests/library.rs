//! Chapter 04 driven the way a builder (chapter 05) and a daemon (`final/`) will drive it:
//! through the library, with plain option types and a sink that records the events, never
//! through the command line or its clap types.
//!
//! This test is a program of its own (`harness = false` in Cargo.toml): a container can only
//! be cloned from a single-threaded process (see chapter 01's `Container::run`), and the test
//! harness runs tests on threads.

mod common;

use std::time::Duration;

use ch01_namespaces::{ExitStatus, Narrator, ProcessOptions};
use ch02_cgroups::{CgroupOptions, Features, Limits};
use ch03_union_fs::{RunEvent, StorageOptions};
use ch04_images::ImageStore;
use ch04_images::load::{LayerEvent, LayerProgress};
use ch04_images::platform::Wanted;
use ch04_images::reference::Reference;
use ch04_images::registry::pull::{PullEvent, PullOptions, pull};
use ch04_images::registry::push::{PushEvent, PushOptions, Uploaded, push};
use ch04_images::remove::{Removed, remove_image};
use ch04_images::run::{ImageRun, Overrides, run_image};
use common::{Engine, Layout};
use dockyard_support::events::Recorder;
use dockyard_tests::registry::Registry;

fn main() {
    if !dockyard_tests::root_or_skip("library")
        || !dockyard_tests::images::image_tools_or_skip("library")
        || !dockyard_tests::registry::registry_or_skip("library")
    {
        return;
    }
    let engine = Engine::busybox();
    let layout = Layout::copy(engine.layout(), engine.dir().join("named"));
    layout.name_entry(0, "docker.io/library/busybox:latest");
    // The fixture is loaded with the tool: the library's load unpacks on threads, and this
    // process must be single-threaded when it runs a container.
    engine.stdout(&["load", "-i", &layout.dir.to_string_lossy()]);
    let store = ImageStore::open(&engine.path).expect("open the store");

    runs_an_image_with_plain_options(&store);
    pushes_and_pulls_with_events(&store, &engine);
    println!("library: ok");
}

/// `run` with the image's config and the caller's options; what it returns, not prints.
fn runs_an_image_with_plain_options(store: &ImageStore) {
    // Helper threads of the fixtures may still be ending: a clone needs this process alone.
    let single = dockyard_tests::wait_until(Duration::from_secs(10), || threads() == 1);
    assert!(single, "the test process stayed multi-threaded");
    let parent = format!("dockyard-test-library-{}", std::process::id());
    let request = ImageRun {
        image: "busybox".into(),
        overrides: Overrides {
            entrypoint: None,
            command: vec!["/bin/sh".into(), "-c".into(), "exit 3".into()],
        },
        process: ProcessOptions {
            hostname: Some("library".into()),
            env: vec![("FROM".into(), "library".into())],
            ..ProcessOptions::default()
        },
        cgroup: CgroupOptions {
            parent: parent.clone(),
            limits: Limits {
                memory: Some(64 << 20),
                pids: Some(64),
                ..Limits::default()
            },
            features: Features {
                stats: true,
                ..Features::default()
            },
        },
        name: Some("from-the-library".into()),
        remove: true,
        ..ImageRun::default()
    };
    let events = Recorder::<RunEvent>::new();
    let end = run_image(
        store,
        request,
        &StorageOptions::default(),
        &Narrator::silent(),
        &events,
    )
    .expect("run through the library");
    assert_eq!(end.status, ExitStatus::Exited(3));
    let cgroup = end.cgroup.expect("the cgroup's outcome");
    assert_eq!(cgroup.oom_kills, 0);
    let stats = cgroup.stats.as_ref().expect("the counters asked for");
    assert!(stats.pids_peak >= 1, "{cgroup:?}");
    assert_eq!(
        events.take(),
        [],
        "overlay is available: no fallback to tell"
    );
    let left = store.containers().list().expect("list containers");
    assert!(left.is_empty(), "--rm left {left:?}");
    // The test's own parent group, now empty, goes too (on every hierarchy).
    ch02_cgroups::remove_leftover(std::path::Path::new(ch02_cgroups::CGROUP_ROOT), "", &parent)
        .expect("remove the test's parent cgroup");
    let parents = std::fs::read_dir(ch02_cgroups::CGROUP_ROOT)
        .expect("list the cgroup hierarchies")
        .flatten()
        .filter(|h| h.path().join(&parent).exists())
        .count();
    assert_eq!(parents, 0, "the parent group {parent} is left");
}

/// `push` and `pull` send docker's steps as events, in order, and return what they did.
fn pushes_and_pulls_with_events(store: &ImageStore, engine: &Engine) {
    let registry = Registry::start();
    let reference: Reference = format!("{}/library/busybox:v1", registry.host())
        .parse()
        .unwrap();
    ch04_images::tag::tag(store, "busybox", &reference.to_string()).expect("tag");

    let pushing = Recorder::<PushEvent>::new();
    let pushed = push(
        store,
        &reference,
        &PushOptions::default(),
        &Narrator::silent(),
        &pushing,
    )
    .expect("push through the library");
    let events = pushing.take();
    assert_eq!(
        events[0],
        PushEvent::Started {
            repository: reference.name()
        }
    );
    assert!(events.len() > 1);
    for event in &events[1..] {
        assert!(
            matches!(
                event,
                PushEvent::Layer {
                    outcome: Uploaded::Pushed,
                    ..
                }
            ),
            "{event:?}"
        );
    }
    assert_eq!(pushed.tag, "v1");

    let elsewhere = ImageStore::open(engine.dir().join("pulled")).expect("open another store");
    let options = PullOptions {
        platform: Wanted::host(),
        insecure: Vec::new(),
    };
    let pulling = Recorder::<PullEvent>::new();
    let pulled = pull(
        &elsewhere,
        &reference,
        &options,
        &Narrator::silent(),
        &pulling,
    )
    .expect("pull through the library");
    assert!(!pulled.up_to_date);
    assert_eq!(pulled.digest, pushed.digest);
    let events = pulling.take();
    assert_eq!(
        events[0],
        PullEvent::Resolved {
            tag_or_digest: "v1".into(),
            repository: reference.repository.clone(),
        }
    );
    let PullEvent::Layers(layers) = &events[1] else {
        panic!("the layers come second: {events:?}");
    };
    let mut downloaded = vec![0u64; layers.len()];
    let mut steps = vec![Vec::new(); layers.len()];
    for event in &events[2..] {
        match event {
            PullEvent::Downloaded { index, bytes } => downloaded[*index] += bytes,
            PullEvent::Layer(LayerProgress { index, event }) => steps[*index].push(*event),
            other => panic!("unexpected {other:?}"),
        }
    }
    for (i, layer) in layers.iter().enumerate() {
        assert_eq!(downloaded[i], layer.size, "layer {i}: every byte counted");
        assert_eq!(
            steps[i],
            [LayerEvent::Waiting, LayerEvent::Started, LayerEvent::Done],
            "layer {i}"
        );
    }

    let again = Recorder::<PullEvent>::new();
    let pulled = pull(
        &elsewhere,
        &reference,
        &options,
        &Narrator::silent(),
        &again,
    )
    .expect("pull again");
    assert!(pulled.up_to_date);
    assert!(matches!(again.take()[..], [PullEvent::Resolved { .. }]));

    // `rmi` returns what it removed: the name, then the image it was the last name of.
    let removed = remove_image(&elsewhere, &reference.to_string(), false).expect("rmi");
    assert_eq!(
        removed,
        [
            Removed::Untagged(reference.familiar()),
            Removed::Deleted(pulled.id)
        ]
    );
    assert!(elsewhere.list_blobs().expect("list blobs").is_empty());
}

/// How many threads this process has (`Threads:` in /proc/self/status).
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
