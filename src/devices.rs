//! The device nodes a container may create and open: Docker's default list, enforced by
//! the kernel through the container's cgroup. One table (`ALLOWED`) feeds both forms:
//! the v1 `devices` controller's `devices.allow` lines, and the v2
//! BPF_PROG_TYPE_CGROUP_DEVICE program (`program`), as runc and crun attach.
//!
//! CAP_MKNOD is kept (as in Docker), so without this a root process inside could make
//! `/dev/kmsg` or a disk's node and use it. Unlike Docker, no `c *:* m` / `b *:* m`: a
//! node outside the list cannot even be made.

use crate::sys::BpfInsn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Char,
    /// None in Docker's default list; the v1 lines and the v2 program handle it (tested).
    #[cfg_attr(not(test), allow(dead_code))]
    Block,
}

/// One allowed device: its type, numbers (`None` = any) and access (`r`, `w`, `m`).
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

/// v1: written to `devices.deny` first, removing everything the cgroup inherited.
pub const V1_DENY_ALL: &str = "a";
pub const V1_DENY: &str = "devices.deny";
pub const V1_ALLOW: &str = "devices.allow";
/// What a v1 devices cgroup allows, one rule a line.
pub const V1_LIST: &str = "devices.list";

impl Device {
    /// The rule as v1's `devices.allow` takes it: `c 1:3 rwm`, `c 136:* rwm`.
    pub fn v1_line(&self) -> String {
        let n = |x: Option<u32>| x.map_or("*".to_string(), |v| v.to_string());
        let t = match self.kind {
            Kind::Char => 'c',
            Kind::Block => 'b',
        };
        format!("{t} {}:{} {}", n(self.major), n(self.minor), self.access)
    }

    /// BPF_DEVCG_ACC_* bits of `access`.
    fn access_bits(&self) -> i32 {
        self.access
            .chars()
            .map(|c| match c {
                'm' => ACC_MKNOD,
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                _ => 0,
            })
            .fold(0, |a, b| a | b)
    }
}

// linux/bpf.h: bpf_cgroup_dev_ctx is { u32 access_type (access << 16 | type); u32 major;
// u32 minor }, and the program returns 1 to allow, 0 to refuse (EPERM).
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

// eBPF opcodes used (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K: u8 = 0x54; // dst &= imm
const ALU32_RSH_K: u8 = 0x74; // dst >>= imm
const ALU32_MOV_X: u8 = 0xbc; // dst = src
const ALU64_MOV_K: u8 = 0xb7; // dst = imm
const JMP_JNE_K: u8 = 0x55; // if dst != imm goto pc + off
const JMP_EXIT: u8 = 0x95;

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The v2 device program for `devices`, in the manner of crun's: load type, access,
/// major and minor from the context into r2..r5, then one block per rule that falls
/// through to `return 1` when everything matches and jumps to the next block at the
/// first mismatch; past the last block, `return 0`.
pub fn program(devices: &[Device]) -> Vec<BpfInsn> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for d in devices {
        // Each test is (register, value); the jump offsets are known once the block is.
        let mut tests: Vec<Vec<BpfInsn>> = Vec::new();
        let t = match d.kind {
            Kind::Char => DEV_CHAR,
            Kind::Block => DEV_BLOCK,
        };
        tests.push(vec![insn(JMP_JNE_K, 2, 0, 0, t)]);
        if let Some(major) = d.major {
            tests.push(vec![insn(JMP_JNE_K, 4, 0, 0, major as i32)]);
        }
        if let Some(minor) = d.minor {
            tests.push(vec![insn(JMP_JNE_K, 5, 0, 0, minor as i32)]);
        }
        let all = ACC_MKNOD | ACC_READ | ACC_WRITE;
        if d.access_bits() != all {
            // Refuse any access bit outside the rule's: (access & ~allowed) != 0.
            tests.push(vec![
                insn(ALU32_MOV_X, 1, 3, 0, 0),
                insn(ALU32_AND_K, 1, 0, 0, !d.access_bits() & all),
                insn(JMP_JNE_K, 1, 0, 0, 0),
            ]);
        }
        let mut block: Vec<BpfInsn> = tests.into_iter().flatten().collect();
        block.push(insn(ALU64_MOV_K, 0, 0, 0, 1));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code == JMP_JNE_K {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
    }
    p.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `p` the way the kernel would on a device access: a tiny interpreter for the
    /// instructions `program` emits, so the tests check behaviour, not only bytes.
    fn run(p: &[BpfInsn], kind: i32, access: i32, major: u32, minor: u32) -> u64 {
        let ctx = [((access as u32) << 16) | kind as u32, major, minor];
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
                JMP_EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    const ALL: [i32; 3] = [ACC_MKNOD, ACC_READ, ACC_WRITE];

    #[test]
    fn the_list_is_dockers_without_wildcard_mknod() {
        let lines: Vec<String> = ALLOWED.iter().map(Device::v1_line).collect();
        assert_eq!(
            lines,
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
        assert!(ALLOWED.iter().all(|d| d.major.is_some()));
    }

    #[test]
    fn program_allows_the_list_and_nothing_else() {
        let p = program(&ALLOWED);
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
    }

    #[test]
    fn partial_access_is_checked_bit_by_bit() {
        let ro = [Device {
            kind: Kind::Block,
            major: Some(7),
            minor: None,
            access: "r",
            name: "loop, read only",
        }];
        let p = program(&ro);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ, 7, 3), 1);
        assert_eq!(run(&p, DEV_BLOCK, ACC_WRITE, 7, 3), 0);
        assert_eq!(run(&p, DEV_BLOCK, ACC_MKNOD, 7, 3), 0);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ | ACC_WRITE, 7, 3), 0);
        assert_eq!(ro[0].v1_line(), "b 7:* r");
    }

    #[test]
    fn program_shape() {
        let p = program(&ALLOWED);
        // 6 loads, 8 rules of 3 tests + 2, the pts rule of 2 tests + 2, the final 2.
        assert_eq!(p.len(), 6 + 8 * 5 + 4 + 2);
        assert_eq!(p.last().unwrap().code, JMP_EXIT);
        // Every jump lands inside the program, on the start of a rule block or the end.
        for (i, ins) in p.iter().enumerate() {
            if ins.code == JMP_JNE_K {
                assert!(i + 1 + (ins.off as usize) < p.len());
            }
        }
    }
}
