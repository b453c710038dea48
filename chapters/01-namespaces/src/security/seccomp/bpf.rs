//! A seccomp filter is a small program in classic BPF that the kernel runs on every system call.
//!
//! The program sees a `struct seccomp_data` (the call's number, the architecture, the six
//! arguments) and returns a verdict: allow, fail with an errno, kill. Classic BPF has one
//! accumulator, 32-bit loads and compares, forward jumps only, and conditional jumps of at most
//! 255 instructions, so this compiler emits the long jumps as `ja` (whose offset is 32 bits) and
//! dispatches on the call number with a binary search over runs of numbers that share a
//! verdict, instead of a list of 350 comparisons.
//!
//! ```text
//!   ld arch ; not x86_64?      -> default
//!   ld nr   ; x32 (bit 30)?    -> default
//!   binary search on nr        -> the verdict of its run of numbers, or its block
//!   block: rule 1's argument checks -> its verdict; else rule 2's ...; else default
//! ```

use std::collections::BTreeMap;

use super::profile::{ArgCondition, Op};
use crate::error::{Error, Result};

// Instruction classes and modes (linux/bpf_common.h).
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_K: u16 = 0x00;
const BPF_AND: u16 = 0x50;
const BPF_JA: u16 = 0x00;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JGE: u16 = 0x30;

/// Offsets in `struct seccomp_data` (linux/seccomp.h): nr, arch, then instruction pointer and
/// the six 64-bit arguments.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const fn data_arg_low(index: u32) -> u32 {
    16 + 8 * index
}

/// `AUDIT_ARCH_X86_64` (linux/audit.h): EM_X86_64 | 64-bit | little-endian.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// x32 calls arrive with this bit set in the number, under the x86_64 architecture.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// The kernel refuses longer programs (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;

/// A rule for one call, reduced to what the program needs: argument conditions (all must
/// hold) and the verdict (a `SECCOMP_RET_*` value).
#[derive(Debug, Clone)]
pub struct CallRule {
    /// Conditions on the arguments.
    pub args: Vec<ArgCondition>,
    /// The verdict when they hold.
    pub verdict: u32,
}

/// The program, before assembly: one entry per call number that has rules.
#[derive(Debug, Clone)]
pub struct FilterPlan {
    /// The verdict for everything else.
    pub default_verdict: u32,
    /// Rules per call number, in profile order.
    pub calls: BTreeMap<u32, Vec<CallRule>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label(usize);

#[derive(Debug, Clone, Copy)]
enum Target {
    Next,
    Skip(u8),
    To(Label),
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Stmt {
        code: u16,
        k: u32,
    },
    Cond {
        op: u16,
        k: u32,
        jt: Target,
        jf: Target,
    },
    Jump(Label),
    Mark(Label),
}

/// Builds the program with symbolic labels, then resolves them.
#[derive(Debug, Default)]
struct Assembler {
    items: Vec<Item>,
    labels: usize,
}

impl Assembler {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }
    fn load(&mut self, offset: u32) {
        self.items.push(Item::Stmt {
            code: BPF_LD | BPF_W | BPF_ABS,
            k: offset,
        });
    }
    fn and(&mut self, mask: u32) {
        self.items.push(Item::Stmt {
            code: BPF_ALU | BPF_AND | BPF_K,
            k: mask,
        });
    }
    fn ret(&mut self, verdict: u32) {
        self.items.push(Item::Stmt {
            code: BPF_RET | BPF_K,
            k: verdict,
        });
    }
    fn cond(&mut self, op: u16, k: u32, jt: Target, jf: Target) {
        self.items.push(Item::Cond { op, k, jt, jf });
    }
    fn jump(&mut self, to: Label) {
        self.items.push(Item::Jump(to));
    }
    fn mark(&mut self, label: Label) {
        self.items.push(Item::Mark(label));
    }

    fn assemble(self) -> Result<Vec<libc::sock_filter>> {
        let mut position = vec![usize::MAX; self.labels];
        let mut pc = 0;
        for item in &self.items {
            match item {
                Item::Mark(label) => position[label.0] = pc,
                _ => pc += 1,
            }
        }
        if pc > MAX_INSTRUCTIONS {
            return Err(Error::InvalidSpec(format!(
                "the seccomp profile compiles to {pc} instructions; the kernel accepts {MAX_INSTRUCTIONS}"
            )));
        }
        let mut program = Vec::with_capacity(pc);
        for item in self.items {
            let here = program.len();
            let offset = |target: Target| -> Result<u8> {
                match target {
                    Target::Next => Ok(0),
                    Target::Skip(n) => Ok(n),
                    Target::To(label) => u8::try_from(position[label.0] - here - 1).map_err(|_| {
                        Error::InvalidSpec("a seccomp rule has too many argument conditions".into())
                    }),
                }
            };
            let insn = match item {
                Item::Mark(_) => continue,
                Item::Stmt { code, k } => libc::sock_filter {
                    code,
                    jt: 0,
                    jf: 0,
                    k,
                },
                Item::Cond { op, k, jt, jf } => libc::sock_filter {
                    code: BPF_JMP | op | BPF_K,
                    jt: offset(jt)?,
                    jf: offset(jf)?,
                    k,
                },
                Item::Jump(label) => libc::sock_filter {
                    code: BPF_JMP | BPF_JA,
                    jt: 0,
                    jf: 0,
                    k: (position[label.0] - here - 1) as u32,
                },
            };
            program.push(insn);
        }
        Ok(program)
    }
}

// ANCHOR: compile
/// Compiles a plan into a classic BPF program for x86_64.
///
/// The kernel runs this program on every system call the container makes, and verifies and
/// translates it once at load time, so its size matters twice. Most calls need no argument
/// check, and allowed calls come in long runs of consecutive numbers (`read`, `write`, `open`,
/// `close`, `stat`, ... are 0, 1, 2, 3, 4): the dispatch searches over *runs* of numbers that
/// share a verdict, not over single numbers, and only calls with argument checks get a block.
pub fn compile(plan: &FilterPlan) -> Result<Vec<libc::sock_filter>> {
    let mut asm = Assembler::default();
    let default = asm.label();

    // The default verdict sits after the dispatch, too far for a conditional jump: a
    // condition skips over (or falls into) an unconditional `ja` instead.
    asm.load(DATA_ARCH);
    asm.cond(BPF_JEQ, AUDIT_ARCH_X86_64, Target::Skip(1), Target::Next);
    asm.jump(default);
    asm.load(DATA_NR);
    asm.cond(BPF_JGE, X32_SYSCALL_BIT, Target::Next, Target::Skip(1));
    asm.jump(default);

    let mut verdicts: BTreeMap<u32, Label> = BTreeMap::new();
    let mut blocks: Vec<(Label, &Vec<CallRule>)> = Vec::new();
    let runs = runs_of(plan, default, &mut asm, &mut verdicts, &mut blocks);
    search(&mut asm, &runs);

    asm.mark(default);
    asm.ret(plan.default_verdict);
    for (verdict, label) in verdicts {
        asm.mark(label);
        asm.ret(verdict);
    }
    for (label, rules) in blocks {
        asm.mark(label);
        for rule in rules {
            let next_rule = asm.label();
            for condition in &rule.args {
                check(&mut asm, condition, next_rule);
            }
            asm.ret(rule.verdict);
            asm.mark(next_rule);
        }
        asm.ret(plan.default_verdict);
    }
    asm.assemble()
}
// ANCHOR_END: compile

/// A run of consecutive call numbers, from `start` up to the next run's start, and where
/// they all go.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u32,
    to: Label,
}

/// Splits the numbers 0..2^32 into runs with the same destination: the default, a shared
/// `ret` for calls with a plain verdict, or the call's own block when it checks arguments.
fn runs_of<'p>(
    plan: &'p FilterPlan,
    default: Label,
    asm: &mut Assembler,
    verdicts: &mut BTreeMap<u32, Label>,
    blocks: &mut Vec<(Label, &'p Vec<CallRule>)>,
) -> Vec<Run> {
    let mut runs = vec![Run {
        start: 0,
        to: default,
    }];
    let push = |runs: &mut Vec<Run>, start: u32, to: Label| {
        let last = runs.last_mut().expect("runs starts non-empty");
        if last.to == to {
            return; // extends the current run
        }
        if last.start == start {
            last.to = to;
        } else {
            runs.push(Run { start, to });
        }
    };
    for (nr, rules) in &plan.calls {
        let to = match rules.first() {
            // A first rule without conditions decides alone; later rules are unreachable.
            Some(rule) if rule.args.is_empty() => {
                *verdicts.entry(rule.verdict).or_insert_with(|| asm.label())
            }
            _ => {
                let label = asm.label();
                blocks.push((label, rules));
                label
            }
        };
        push(&mut runs, *nr, to);
        if let Some(after) = nr.checked_add(1)
            && !plan.calls.contains_key(&after)
        {
            push(&mut runs, after, default);
        }
    }
    runs
}

/// Emits a binary search over the runs' starts.
fn search(asm: &mut Assembler, runs: &[Run]) {
    if let [run] = runs {
        asm.jump(run.to);
        return;
    }
    let (low, high) = runs.split_at(runs.len() / 2);
    let (low_label, high_label) = (asm.label(), asm.label());
    // At or above the first start of the upper half: fall into the `ja` to it; below: skip it.
    asm.cond(BPF_JGE, high[0].start, Target::Next, Target::Skip(1));
    asm.jump(high_label);
    asm.jump(low_label);
    asm.mark(low_label);
    search(asm, low);
    asm.mark(high_label);
    search(asm, high);
}

/// Emits one 64-bit comparison as two 32-bit ones (high word first); falls through when it
/// holds, jumps to `fail` when it does not.
fn check(asm: &mut Assembler, c: &ArgCondition, fail: Label) {
    let low = data_arg_low(c.index);
    let high = low + 4;
    let (v_hi, v_lo) = ((c.value >> 32) as u32, c.value as u32);
    let ok = asm.label();
    let (fail_t, ok_t) = (Target::To(fail), Target::To(ok));
    match c.op {
        Op::Equal => {
            asm.load(high);
            asm.cond(BPF_JEQ, v_hi, Target::Next, fail_t);
            asm.load(low);
            asm.cond(BPF_JEQ, v_lo, ok_t, fail_t);
        }
        Op::NotEqual => {
            asm.load(high);
            asm.cond(BPF_JEQ, v_hi, Target::Next, ok_t);
            asm.load(low);
            asm.cond(BPF_JEQ, v_lo, fail_t, ok_t);
        }
        Op::Greater | Op::GreaterOrEqual | Op::Less | Op::LessOrEqual => {
            // Compare the high words; only when they are equal do the low words decide.
            let wants_greater = matches!(c.op, Op::Greater | Op::GreaterOrEqual);
            let (above, below) = if wants_greater {
                (ok_t, fail_t)
            } else {
                (fail_t, ok_t)
            };
            asm.load(high);
            asm.cond(BPF_JGT, v_hi, above, Target::Next);
            asm.cond(BPF_JEQ, v_hi, Target::Next, below);
            asm.load(low);
            let low_op = match c.op {
                Op::Greater | Op::LessOrEqual => BPF_JGT,
                _ => BPF_JGE,
            };
            asm.cond(low_op, v_lo, above, below);
        }
        Op::MaskedEqual => {
            let (m_hi, m_lo) = ((c.value >> 32) as u32, c.value as u32);
            let (w_hi, w_lo) = ((c.value_two >> 32) as u32, c.value_two as u32);
            asm.load(high);
            asm.and(m_hi);
            asm.cond(BPF_JEQ, w_hi, Target::Next, fail_t);
            asm.load(low);
            asm.and(m_lo);
            asm.cond(BPF_JEQ, w_lo, ok_t, fail_t);
        }
    }
    asm.mark(ok);
}
