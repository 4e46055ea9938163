//! The device nodes a container may create and open, enforced by the kernel through the
//! container's cgroup. One piece of data decides both forms: a list of rules (a bundle's
//! `linux.resources.devices`, then gocker's default allow list `ALLOWED`) is reduced, the
//! way the v1 kernel keeps it, to a `List` (a default and its exceptions); that list is
//! both v1's `devices.deny`/`devices.allow` writes and the v2
//! BPF_PROG_TYPE_CGROUP_DEVICE program (`program`), as runc and crun attach.
//!
//! CAP_MKNOD is kept (as in Docker), so without this a root process inside could make
//! `/dev/kmsg` or a disk's node and use it. Unlike Docker, no `c *:* m` / `b *:* m` by
//! default: a node outside the list cannot even be made (a bundle may still ask for them).

use crate::sys::BpfInsn;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Char,
    Block,
}

/// One allowed device of the default list: its type, numbers (`None` = any), access
/// (`r`, `w`, `m`) and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub kind: Kind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: &'static str,
    pub name: &'static str,
}

const fn char_dev(major: u32, minor: Option<u32>, name: &'static str) -> Device {
    Device {
        kind: Kind::Char,
        major: Some(major),
        minor,
        access: "rwm",
        name,
    }
}

/// Docker's default device rules (moby's `oci/defaults.go`), without its wildcard mknod.
pub const ALLOWED: [Device; 9] = [
    char_dev(1, Some(3), "null"),
    char_dev(1, Some(5), "zero"),
    char_dev(1, Some(7), "full"),
    char_dev(1, Some(8), "random"),
    char_dev(1, Some(9), "urandom"),
    char_dev(5, Some(0), "tty"),
    char_dev(5, Some(1), "console"),
    char_dev(5, Some(2), "ptmx"),
    char_dev(136, None, "pts"),
];

/// v1: the default, written first, removing everything the cgroup inherited: `a` to
/// `devices.deny` (deny all, the exceptions allowed) or to `devices.allow`.
pub const V1_ALL: &str = "a";
pub const V1_DENY: &str = "devices.deny";
pub const V1_ALLOW: &str = "devices.allow";
/// What a v1 devices cgroup allows, one rule a line.
pub const V1_LIST: &str = "devices.list";

/// BPF_DEVCG_ACC_* bits, the access of a rule and of a device access.
pub const ACC_MKNOD: u8 = 1;
pub const ACC_READ: u8 = 2;
pub const ACC_WRITE: u8 = 4;
pub const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// The access letters as bits; `None` for a letter other than r, w, m (or none at all).
pub fn access_bits(access: &str) -> Option<u8> {
    let mut bits = 0;
    for c in access.chars() {
        bits |= match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => return None,
        };
    }
    (bits != 0).then_some(bits)
}

/// The bits as v1 prints and takes them, in its order: `rwm`, `rw`, `m`.
fn access_letters(bits: u8) -> String {
    [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// One rule, in order: a bundle's `linux.resources.devices` entry, or v1's line. `kind`
/// `None` is type `a`, every device: it resets the list to allow-all or deny-all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub allow: bool,
    pub kind: Option<Kind>,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// ACC_* bits, never 0.
    pub access: u8,
}

/// A set of devices (type and numbers, `None` = any) with access bits, as v1 keeps its
/// exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exception {
    pub kind: Kind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u8,
}

impl Exception {
    /// The line as v1's `devices.allow`/`devices.deny` take it and `devices.list` shows
    /// it: `c 1:3 rwm`, `c 136:* rwm`.
    pub fn v1_line(&self) -> String {
        let n = |x: Option<u32>| x.map_or("*".to_string(), |v| v.to_string());
        let t = match self.kind {
            Kind::Char => 'c',
            Kind::Block => 'b',
        };
        format!(
            "{t} {}:{} {}",
            n(self.major),
            n(self.minor),
            access_letters(self.access)
        )
    }

    fn same_devices(&self, other: &Exception) -> bool {
        self.kind == other.kind && self.major == other.major && self.minor == other.minor
    }
}

/// What a sequence of rules comes to: a default and the exceptions to it, in the order
/// they were first added (the order v1's `devices.list` shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub default_allow: bool,
    pub exceptions: Vec<Exception>,
}

impl List {
    /// Apply `rules` in order to a deny-all list, as the v1 kernel applies writes
    /// (security/device_cgroup.c): a rule of type `a` resets the default and drops every
    /// exception; a rule that agrees with the default takes its bits off the exception for
    /// exactly the same devices (a wildcard exception is never punched through); one that
    /// disagrees adds its bits to that exception, or adds it. Later rules win.
    pub fn from_rules<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> List {
        let mut l = List {
            default_allow: false,
            exceptions: Vec::new(),
        };
        for r in rules {
            let Some(kind) = r.kind else {
                l = List {
                    default_allow: r.allow,
                    exceptions: Vec::new(),
                };
                continue;
            };
            let e = Exception {
                kind,
                major: r.major,
                minor: r.minor,
                access: r.access,
            };
            let existing = l.exceptions.iter().position(|x| x.same_devices(&e));
            if r.allow == l.default_allow {
                if let Some(i) = existing {
                    l.exceptions[i].access &= !e.access;
                    if l.exceptions[i].access == 0 {
                        l.exceptions.remove(i);
                    }
                }
            } else {
                match existing {
                    Some(i) => l.exceptions[i].access |= e.access,
                    None => l.exceptions.push(e),
                }
            }
        }
        l
    }

    /// A container's list: the bundle's rules (none from the command line), then the
    /// default allow list after them, as runc appends its own.
    pub fn for_container(rules: &[Rule]) -> List {
        let defaults: Vec<Rule> = ALLOWED.iter().map(Device::rule).collect();
        List::from_rules(rules.iter().chain(&defaults))
    }

    /// v1's writes: the file the default goes to (with `a`), and the file the exceptions
    /// go to, one line each.
    pub fn v1_files(&self) -> (&'static str, &'static str) {
        if self.default_allow {
            (V1_ALLOW, V1_DENY)
        } else {
            (V1_DENY, V1_ALLOW)
        }
    }

    /// What v1's `devices.list` shows for this list: the allowed exceptions, or
    /// `a *:* rwm` alone for an allow-all default (its exceptions are not listed).
    pub fn v1_list_lines(&self) -> Vec<String> {
        if self.default_allow {
            vec!["a *:* rwm".to_string()]
        } else {
            self.exceptions.iter().map(Exception::v1_line).collect()
        }
    }
}

impl Device {
    /// The entry as an allow rule.
    pub fn rule(&self) -> Rule {
        Rule {
            allow: true,
            kind: Some(self.kind),
            major: self.major,
            minor: self.minor,
            access: access_bits(self.access).unwrap_or(ACC_ALL),
        }
    }
}

// linux/bpf.h: bpf_cgroup_dev_ctx is { u32 access_type (access << 16 | type); u32 major;
// u32 minor }, and the program returns 1 to allow, 0 to refuse (EPERM).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

// eBPF opcodes used (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K: u8 = 0x54; // dst &= imm
const ALU32_RSH_K: u8 = 0x74; // dst >>= imm
const ALU32_MOV_X: u8 = 0xbc; // dst = src
const ALU64_MOV_K: u8 = 0xb7; // dst = imm
const JMP_JNE_K: u8 = 0x55; // if dst != imm goto pc + off
const JMP_JEQ_K: u8 = 0x15; // if dst == imm goto pc + off
const JMP_EXIT: u8 = 0x95;

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The v2 device program for `list`, in the manner of crun's: load type, access, major
/// and minor from the context into r2..r5, then one block per exception that falls
/// through to return the opposite of the default when the access matches it, and jumps
/// to the next block at the first mismatch; past the last block, return the default.
/// The match is v1's: on a deny-all list an exception allows an access all of whose bits
/// it has; on an allow-all list it refuses an access sharing any bit with it.
pub fn program(list: &List) -> Vec<BpfInsn> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    let all = ACC_ALL as i32;
    for e in &list.exceptions {
        let t = match e.kind {
            Kind::Char => DEV_CHAR,
            Kind::Block => DEV_BLOCK,
        };
        let mut block = vec![insn(JMP_JNE_K, 2, 0, 0, t)];
        if let Some(major) = e.major {
            block.push(insn(JMP_JNE_K, 4, 0, 0, major as i32));
        }
        if let Some(minor) = e.minor {
            block.push(insn(JMP_JNE_K, 5, 0, 0, minor as i32));
        }
        let bits = e.access as i32;
        if !list.default_allow && bits != all {
            // Skip unless every bit asked is the exception's: (access & ~bits) == 0.
            block.extend([
                insn(ALU32_MOV_X, 1, 3, 0, 0),
                insn(ALU32_AND_K, 1, 0, 0, !bits & all),
                insn(JMP_JNE_K, 1, 0, 0, 0),
            ]);
        } else if list.default_allow && bits != all {
            // Skip unless some bit asked is the exception's: (access & bits) != 0.
            block.extend([
                insn(ALU32_MOV_X, 1, 3, 0, 0),
                insn(ALU32_AND_K, 1, 0, 0, bits),
                insn(JMP_JEQ_K, 1, 0, 0, 0),
            ]);
        }
        block.push(insn(ALU64_MOV_K, 0, 0, 0, i32::from(!list.default_allow)));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == JMP_JNE_K || ins.code == JMP_JEQ_K {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
    }
    p.push(insn(ALU64_MOV_K, 0, 0, 0, i32::from(list.default_allow)));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `p` the way the kernel would on a device access: a tiny interpreter for the
    /// instructions `program` emits, so the tests check behaviour, not only bytes.
    fn run(p: &[BpfInsn], kind: i32, access: u8, major: u32, minor: u32) -> u64 {
        let ctx = [(u32::from(access) << 16) | kind as u32, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(src, 1, "loads come from the context");
                    r[dst] = ctx[i.off as usize / 4] as u64;
                }
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU32_MOV_X => r[dst] = r[src] as u32 as u64,
                ALU64_MOV_K => r[dst] = i.imm as i64 as u64,
                JMP_JNE_K => {
                    if r[dst] != i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                JMP_JEQ_K => {
                    if r[dst] == i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                JMP_EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    /// The v1 kernel's own check of an access against a list (match_exception and
    /// match_exception_partial in security/device_cgroup.c), written independently of
    /// `program`, to compare the program with.
    fn v1_allows(l: &List, kind: Kind, access: u8, major: u32, minor: u32) -> bool {
        let hits = |e: &&Exception| {
            e.kind == kind
                && e.major.is_none_or(|m| m == major)
                && e.minor.is_none_or(|m| m == minor)
        };
        if l.default_allow {
            !l.exceptions
                .iter()
                .filter(hits)
                .any(|e| e.access & access != 0)
        } else {
            l.exceptions
                .iter()
                .filter(hits)
                .any(|e| access & !e.access == 0)
        }
    }

    fn dev(kind: Kind) -> i32 {
        match kind {
            Kind::Char => DEV_CHAR,
            Kind::Block => DEV_BLOCK,
        }
    }

    /// Every access of every device in a small universe: the program and v1 agree.
    fn program_agrees_with_v1(l: &List) {
        let p = program(l);
        for kind in [Kind::Char, Kind::Block] {
            for major in [1, 5, 8, 10, 136] {
                for minor in [0, 3, 20, 229] {
                    for access in 1..=ACC_ALL {
                        assert_eq!(
                            run(&p, dev(kind), access, major, minor) == 1,
                            v1_allows(l, kind, access, major, minor),
                            "{kind:?} {major}:{minor} access {access} under {l:?}"
                        );
                    }
                }
            }
        }
    }

    fn rule(
        allow: bool,
        kind: Option<Kind>,
        major: Option<u32>,
        minor: Option<u32>,
        a: &str,
    ) -> Rule {
        Rule {
            allow,
            kind,
            major,
            minor,
            access: access_bits(a).unwrap(),
        }
    }

    const ALL: [u8; 3] = [ACC_MKNOD, ACC_READ, ACC_WRITE];

    #[test]
    fn the_default_list_is_dockers_without_wildcard_mknod() {
        let l = List::for_container(&[]);
        assert!(!l.default_allow);
        assert_eq!(
            l.v1_list_lines(),
            [
                "c 1:3 rwm",
                "c 1:5 rwm",
                "c 1:7 rwm",
                "c 1:8 rwm",
                "c 1:9 rwm",
                "c 5:0 rwm",
                "c 5:1 rwm",
                "c 5:2 rwm",
                "c 136:* rwm",
            ]
        );
        assert_eq!(l.v1_files(), (V1_DENY, V1_ALLOW));
        assert!(ALLOWED.iter().all(|d| d.major.is_some()));
        // A bundle's deny-all first (what Docker, podman and runc send) changes nothing.
        let deny_all = rule(false, None, None, None, "rwm");
        assert_eq!(List::for_container(&[deny_all]), l);
    }

    #[test]
    fn program_allows_the_list_and_nothing_else() {
        let l = List::for_container(&[]);
        let p = program(&l);
        for d in &ALLOWED {
            let minor = d.minor.unwrap_or(7);
            for acc in ALL {
                assert_eq!(
                    run(&p, DEV_CHAR, acc, d.major.unwrap(), minor),
                    1,
                    "{}",
                    d.name
                );
            }
            // The same numbers as a block device are refused.
            assert_eq!(run(&p, DEV_BLOCK, ACC_READ, d.major.unwrap(), minor), 0);
        }
        for (kind, major, minor, what) in [
            (DEV_CHAR, 1, 11, "kmsg"),
            (DEV_CHAR, 1, 1, "mem"),
            (DEV_CHAR, 10, 229, "fuse"),
            (DEV_CHAR, 4, 1, "tty1"),
            (DEV_CHAR, 5, 3, "next to ptmx"),
            (DEV_BLOCK, 7, 0, "loop0"),
            (DEV_BLOCK, 8, 0, "sda"),
            (DEV_BLOCK, 136, 0, "a block 136"),
        ] {
            for acc in ALL {
                assert_eq!(run(&p, kind, acc, major, minor), 0, "{what}");
            }
        }
        program_agrees_with_v1(&l);
    }

    #[test]
    fn partial_access_is_checked_bit_by_bit() {
        let l = List::from_rules(&[rule(true, Some(Kind::Block), Some(7), None, "r")]);
        let p = program(&l);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ, 7, 3), 1);
        assert_eq!(run(&p, DEV_BLOCK, ACC_WRITE, 7, 3), 0);
        assert_eq!(run(&p, DEV_BLOCK, ACC_MKNOD, 7, 3), 0);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ | ACC_WRITE, 7, 3), 0);
        assert_eq!(l.v1_list_lines(), ["b 7:* r"]);
        program_agrees_with_v1(&l);
    }

    #[test]
    fn later_rules_win_and_lists_keep_their_order() {
        // runtime-tools' linux_cgroups_devices: devices.list shows the bundle's rules in
        // order, before the default list.
        let bundle = [
            rule(false, None, None, None, "rwm"),
            rule(true, Some(Kind::Char), Some(10), Some(229), "rwm"),
            rule(true, Some(Kind::Block), Some(8), Some(20), "rw"),
            rule(true, Some(Kind::Block), Some(10), Some(200), "r"),
        ];
        let l = List::for_container(&bundle);
        assert_eq!(
            l.v1_list_lines()[..4],
            ["c 10:229 rwm", "b 8:20 rw", "b 10:200 r", "c 1:3 rwm"]
        );
        program_agrees_with_v1(&l);
        let p = program(&l);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ | ACC_WRITE, 8, 20), 1);
        assert_eq!(run(&p, DEV_BLOCK, ACC_MKNOD, 8, 20), 0);

        // A deny after an allow takes its bits back; an allow after that gives them again.
        let fuse = |allow, a| rule(allow, Some(Kind::Char), Some(10), Some(229), a);
        let l = List::from_rules(&[fuse(true, "rwm"), fuse(false, "w")]);
        assert_eq!(l.v1_list_lines(), ["c 10:229 rm"]);
        let p = program(&l);
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 10, 229), 1);
        assert_eq!(run(&p, DEV_CHAR, ACC_WRITE, 10, 229), 0);
        let l = List::from_rules(&[fuse(true, "rwm"), fuse(false, "rwm"), fuse(true, "r")]);
        assert_eq!(l.v1_list_lines(), ["c 10:229 r"]);
        program_agrees_with_v1(&l);
        // Two allows of the same devices merge, as v1 does: rw is then one exception.
        let l = List::from_rules(&[fuse(true, "r"), fuse(true, "w")]);
        assert_eq!(l.v1_list_lines(), ["c 10:229 rw"]);
        assert_eq!(
            run(&program(&l), DEV_CHAR, ACC_READ | ACC_WRITE, 10, 229),
            1
        );

        // A type-a rule resets everything before it.
        let l = List::from_rules(&[fuse(true, "rwm"), rule(false, None, None, None, "rwm")]);
        assert!(l.exceptions.is_empty() && !l.default_allow);
        assert_eq!(run(&program(&l), DEV_CHAR, ACC_READ, 10, 229), 0);
    }

    #[test]
    fn a_wildcard_is_never_punched_through() {
        // v1 removes a deny only from the exception for exactly those devices: after
        // `c *:* m`, denying `c 1:3 m` leaves mknod of 1:3 allowed (runc's emulator and
        // the kernel agree), and the program must say the same.
        let l = List::from_rules(&[
            rule(true, Some(Kind::Char), None, None, "m"),
            rule(false, Some(Kind::Char), Some(1), Some(3), "m"),
        ]);
        assert_eq!(l.v1_list_lines(), ["c *:* m"]);
        assert_eq!(run(&program(&l), DEV_CHAR, ACC_MKNOD, 1, 3), 1);
        program_agrees_with_v1(&l);
    }

    #[test]
    fn an_allow_all_list_refuses_its_exceptions() {
        // A privileged bundle: allow everything, then deny writes to sda.
        let rules = [
            rule(true, None, None, None, "rwm"),
            rule(false, Some(Kind::Block), Some(8), Some(0), "w"),
        ];
        let l = List::for_container(&rules);
        assert!(l.default_allow);
        assert_eq!(l.v1_files(), (V1_ALLOW, V1_DENY));
        assert_eq!(l.v1_list_lines(), ["a *:* rwm"]);
        assert_eq!(
            l.exceptions
                .iter()
                .map(Exception::v1_line)
                .collect::<Vec<_>>(),
            ["b 8:0 w"],
            "the default list's allows change nothing on an allow-all list"
        );
        let p = program(&l);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ, 8, 0), 1);
        assert_eq!(run(&p, DEV_BLOCK, ACC_WRITE, 8, 0), 0);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ | ACC_WRITE, 8, 0), 0);
        assert_eq!(run(&p, DEV_CHAR, ACC_WRITE, 10, 229), 1);
        program_agrees_with_v1(&l);
    }

    #[test]
    fn containerds_default_rules() {
        // What containerd 1.6's default spec sends: deny all, then its list (the same
        // nodes as the default list, in another order).
        let mut rules = vec![rule(false, None, None, None, "rwm")];
        for (major, minor) in [
            (1, Some(3)),
            (1, Some(8)),
            (1, Some(7)),
            (5, Some(0)),
            (1, Some(5)),
            (1, Some(9)),
            (5, Some(1)),
            (136, None),
            (5, Some(2)),
        ] {
            rules.push(rule(true, Some(Kind::Char), Some(major), minor, "rwm"));
        }
        let l = List::for_container(&rules);
        assert_eq!(l.exceptions.len(), ALLOWED.len(), "each node once, merged");
        let p = program(&l);
        assert_eq!(run(&p, DEV_CHAR, ACC_WRITE, 1, 3), 1, "null");
        assert_eq!(run(&p, DEV_BLOCK, ACC_MKNOD, 8, 0), 0, "no disk node");
        program_agrees_with_v1(&l);
    }

    #[test]
    fn program_shape() {
        let p = program(&List::for_container(&[]));
        // 6 loads, 8 rules of 3 tests + 2, the pts rule of 2 tests + 2, the final 2.
        assert_eq!(p.len(), 6 + 8 * 5 + 4 + 2);
        assert_eq!(p.last().unwrap().code, JMP_EXIT);
        // Every jump lands inside the program, on the start of a rule block or the end.
        for (i, ins) in p.iter().enumerate() {
            if ins.code == JMP_JNE_K || ins.code == JMP_JEQ_K {
                assert!(i + 1 + (ins.off as usize) < p.len());
            }
        }
    }

    #[test]
    fn access_letters_round_trip() {
        assert_eq!(access_bits("mwr"), Some(ACC_ALL));
        assert_eq!(access_letters(ACC_ALL), "rwm");
        assert_eq!(access_bits(""), None);
        assert_eq!(access_bits("rx"), None);
    }
}
