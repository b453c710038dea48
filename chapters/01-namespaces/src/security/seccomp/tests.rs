//! The compiler's output is checked by running it: a tiny interpreter for the classic BPF
//! subset the compiler emits evaluates the program on made-up calls.

use super::*;
use crate::security::capabilities::DOCKER_DEFAULT;

const ALLOW: u32 = 0x7fff_0000;
const EPERM: u32 = 0x0005_0001;
const ENOSYS: u32 = 0x0005_0026;

/// Runs `program` on a call; returns its verdict.
fn run(program: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let word = |offset: u32| -> u32 {
        match offset {
            0 => nr,
            4 => arch,
            o if o >= 16 => {
                let arg = args[((o - 16) / 8) as usize];
                if (o - 16) % 8 == 0 {
                    arg as u32
                } else {
                    (arg >> 32) as u32
                }
            }
            _ => panic!("load from offset {offset}"),
        }
    };
    let (mut acc, mut pc) = (0u32, 0usize);
    for _ in 0..10_000 {
        let insn = program[pc];
        pc += 1;
        match insn.code {
            0x20 => acc = word(insn.k),    // ld [k]
            0x54 => acc &= insn.k,         // and #k
            0x06 => return insn.k,         // ret #k
            0x05 => pc += insn.k as usize, // ja
            code => {
                let taken = match code {
                    0x15 => acc == insn.k, // jeq
                    0x25 => acc > insn.k,  // jgt
                    0x35 => acc >= insn.k, // jge
                    _ => panic!("unexpected opcode {code:#x}"),
                };
                pc += if taken { insn.jt } else { insn.jf } as usize;
            }
        }
    }
    panic!("the program did not return");
}

fn default_caps() -> CapabilitySet {
    DOCKER_DEFAULT.iter().map(|c| c.index()).collect()
}

fn compiled(caps: &CapabilitySet) -> Vec<libc::sock_filter> {
    let policy = SeccompPolicy::default_profile().unwrap();
    compile(&policy, caps).unwrap().unwrap().program
}

fn call(program: &[libc::sock_filter], name: &str, args: [u64; 6]) -> u32 {
    let nr = number_of(name).unwrap_or_else(|| panic!("no such call {name}"));
    run(program, bpf::AUDIT_ARCH_X86_64, nr, args)
}

#[test]
fn the_default_profile_allows_ordinary_calls_and_refuses_dangerous_ones() {
    let program = compiled(&default_caps());
    for name in [
        "read",
        "write",
        "openat",
        "execve",
        "mmap",
        "exit_group",
        "chroot",
        "getpid",
    ] {
        assert_eq!(call(&program, name, [0; 6]), ALLOW, "{name}");
    }
    for name in [
        "init_module",
        "finit_module",
        "kexec_load",
        "reboot",
        "mount",
        "umount2",
        "keyctl",
        "add_key",
        "request_key",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "unshare",
        "setns",
    ] {
        assert_eq!(call(&program, name, [0; 6]), EPERM, "{name}");
    }
    assert_eq!(call(&program, "clone3", [0; 6]), ENOSYS);
}

#[test]
fn clone_is_allowed_only_without_namespace_flags() {
    let program = compiled(&default_caps());
    let sigchld = 17;
    assert_eq!(call(&program, "clone", [sigchld, 0, 0, 0, 0, 0]), ALLOW);
    let thread = 0x003d_0f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|...
    assert_eq!(call(&program, "clone", [thread, 0, 0, 0, 0, 0]), ALLOW);
    let new_user_ns = 0x1000_0000;
    assert_eq!(
        call(&program, "clone", [new_user_ns | sigchld, 0, 0, 0, 0, 0]),
        EPERM
    );
}

#[test]
fn capabilities_open_their_calls() {
    let mut caps = default_caps();
    caps.insert(caps::Capability::CAP_SYS_ADMIN.index());
    let program = compiled(&caps);
    assert_eq!(call(&program, "mount", [0; 6]), ALLOW);
    assert_eq!(call(&program, "clone", [0x1000_0011, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(call(&program, "clone3", [0; 6]), ALLOW);
    assert_eq!(
        call(&program, "reboot", [0; 6]),
        EPERM,
        "needs CAP_SYS_BOOT, not SYS_ADMIN"
    );
}

#[test]
fn personality_is_allowed_for_listed_values_only() {
    let program = compiled(&default_caps());
    assert_eq!(call(&program, "personality", [0, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(
        call(&program, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
        ALLOW
    );
    assert_eq!(
        call(&program, "personality", [0x0040_0000, 0, 0, 0, 0, 0]),
        EPERM
    );
    assert_eq!(
        call(&program, "personality", [0x1_0000_0000, 0, 0, 0, 0, 0]),
        EPERM
    );
}

#[test]
fn other_architectures_and_x32_get_the_default() {
    let program = compiled(&default_caps());
    let read = number_of("read").unwrap();
    assert_eq!(run(&program, 0x4000_0003, read, [0; 6]), EPERM, "i386");
    assert_eq!(
        run(&program, bpf::AUDIT_ARCH_X86_64, read | 0x4000_0000, [0; 6]),
        EPERM,
        "x32"
    );
}

#[test]
fn every_comparison_handles_64_bit_values() {
    use profile::{ArgCondition, Op};
    type Expected = fn(u64, u64) -> bool;
    let cases: [(Op, u64, Expected); 6] = [
        (Op::Equal, 0x1_0000_0005, |a, v| a == v),
        (Op::NotEqual, 0x1_0000_0005, |a, v| a != v),
        (Op::Greater, 0x1_0000_0005, |a, v| a > v),
        (Op::GreaterOrEqual, 0x1_0000_0005, |a, v| a >= v),
        (Op::Less, 0x1_0000_0005, |a, v| a < v),
        (Op::LessOrEqual, 0x1_0000_0005, |a, v| a <= v),
    ];
    let probes = [
        0,
        5,
        6,
        0x1_0000_0004,
        0x1_0000_0005,
        0x1_0000_0006,
        0x2_0000_0000,
        u64::MAX,
    ];
    for (op, value, expected) in cases {
        let plan = FilterPlan {
            default_verdict: EPERM,
            calls: [(
                7,
                vec![CallRule {
                    args: vec![ArgCondition {
                        index: 2,
                        value,
                        value_two: 0,
                        op,
                    }],
                    verdict: ALLOW,
                }],
            )]
            .into(),
        };
        let program = bpf::compile(&plan).unwrap();
        for arg in probes {
            let got = run(&program, bpf::AUDIT_ARCH_X86_64, 7, [0, 0, arg, 0, 0, 0]) == ALLOW;
            assert_eq!(
                got,
                expected(arg, value),
                "{op:?} {arg:#x} against {value:#x}"
            );
        }
    }
}

#[test]
fn a_profile_that_denies_mkdir_denies_it() {
    let json = r#"{"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#;
    let policy = SeccompPolicy::Profile {
        origin: "test".into(),
        profile: Profile::parse(json, "test").unwrap(),
    };
    let program = compile(&policy, &default_caps()).unwrap().unwrap().program;
    assert_eq!(call(&program, "mkdir", [0; 6]), EPERM);
    assert_eq!(call(&program, "read", [0; 6]), ALLOW);
}

#[test]
fn bad_profiles_are_refused_with_the_reason() {
    let error = Profile::parse(r#"{"defaultAction": "SCMP_ACT_MAYBE"}"#, "p.json").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("seccomp profile p.json: unknown variant"),
        "{error}"
    );
    let json = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
        "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#;
    let error = Profile::parse(json, "p.json").unwrap_err();
    assert!(error.to_string().contains("argument index 6"), "{error}");
}

#[test]
fn the_syscall_table_is_sorted_and_knows_the_usual_numbers() {
    assert!(syscalls::X86_64.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(number_of("read"), Some(0));
    assert_eq!(number_of("clone3"), Some(435));
    assert_eq!(number_of("no_such_call"), None);
}

#[test]
fn kernel_versions_parse() {
    assert_eq!(parse_version("6.18.44-fc-v595\n"), Some((6, 18)));
    assert_eq!(parse_version("4.8"), Some((4, 8)));
    assert_eq!(parse_version("x"), None);
}

/// What the plan says, evaluated directly: the first rule whose conditions hold decides.
fn reference(plan: &FilterPlan, nr: u32, args: [u64; 6]) -> u32 {
    use profile::Op;
    let holds = |c: &profile::ArgCondition| {
        let a = args[c.index as usize];
        match c.op {
            Op::Equal => a == c.value,
            Op::NotEqual => a != c.value,
            Op::Less => a < c.value,
            Op::LessOrEqual => a <= c.value,
            Op::Greater => a > c.value,
            Op::GreaterOrEqual => a >= c.value,
            Op::MaskedEqual => a & c.value == c.value_two,
        }
    };
    plan.calls
        .get(&nr)
        .and_then(|rules| rules.iter().find(|r| r.args.iter().all(holds)))
        .map_or(plan.default_verdict, |r| r.verdict)
}

#[test]
fn the_program_agrees_with_the_plan_for_every_call_number() {
    let policy = SeccompPolicy::default_profile().unwrap();
    let SeccompPolicy::Profile { profile, .. } = &policy else {
        unreachable!()
    };
    for caps in [default_caps(), (0..=40).collect()] {
        let program = compile(&policy, &caps).unwrap().unwrap().program;
        let plan = plan(profile, &caps, kernel_version());
        let argument_sets = [
            [0; 6],
            [8, 0, 0, 0, 0, 0],
            [0x1000_0011, 1, 2, 3, 4, 5],
            [u64::MAX; 6],
        ];
        for nr in 0..600 {
            for args in argument_sets {
                assert_eq!(
                    run(&program, bpf::AUDIT_ARCH_X86_64, nr, args),
                    reference(&plan, nr, args),
                    "call {nr} with {args:?}"
                );
            }
        }
    }
}
