//! The rest of the kernel surface: lo, CPUs and memory, keyrings, seccomp mode, and the
//! BPF device programs of cgroup v2.

use super::*;

/// Bring a network interface up (SIOCSIFFLAGS with IFF_UP, netdevice(7)).
pub fn interface_up(name: &str) -> io::Result<()> {
    // SAFETY: socket() takes no pointers (socket(2)).
    let sock =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: the socket was just created and is owned here.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    // SAFETY: ifreq is plain data.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS fills ifr_flags of a valid ifreq (netdevice(7)).
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: reading and writing the flags member of the union SIOCGIFFLAGS just filled.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads a valid ifreq (netdevice(7)).
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) }).map(drop)
}

/// Number of CPUs this process may run on (sched_getaffinity(2)). One system call; std's
/// available_parallelism also reads cgroup files, which a start-up need not pay for.
pub fn online_cpus() -> usize {
    // SAFETY: cpu_set_t is plain data, filled by the kernel.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid cpu_set_t of the size passed (sched_getaffinity(2)).
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r == -1 {
        return 1;
    }
    // SAFETY: CPU_COUNT only reads the set.
    (unsafe { libc::CPU_COUNT(&set) } as usize).max(1)
}

/// Total RAM in bytes (sysinfo(2)): no /proc/meminfo text to read and parse.
pub fn total_memory() -> u64 {
    // SAFETY: sysinfo is plain data, filled by the kernel.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid out-pointer (sysinfo(2)).
    if unsafe { libc::sysinfo(&mut info) } == -1 {
        return 0;
    }
    info.totalram as u64 * info.mem_unit as u64
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session keyring for this
/// process, as runc gives each container, so it inherits none of its parent's keys.
pub fn join_new_session_keyring() -> io::Result<()> {
    // SAFETY: a NULL name asks for a new anonymous keyring; the other arguments are
    // unused (keyctl(2), KEYCTL_JOIN_SESSION_KEYRING).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// prctl(PR_GET_SECCOMP): this thread's seccomp mode (0 none, 2 filter); EINVAL when
/// the kernel has no seccomp at all.
pub fn seccomp_mode() -> io::Result<i32> {
    // SAFETY: PR_GET_SECCOMP takes no further arguments (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) })
}

/// One eBPF instruction, `struct bpf_insn` of linux/bpf.h: the register nibbles are
/// packed as `src << 4 | dst`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// The leading members of `union bpf_attr` for BPF_PROG_LOAD (linux/bpf.h); the kernel
/// treats the members after `size` as zero.
#[repr(C)]
pub(crate) struct BpfProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
}

/// The members of `union bpf_attr` for BPF_PROG_ATTACH (linux/bpf.h).
#[repr(C)]
pub(crate) struct BpfProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

pub(crate) const BPF_PROG_LOAD: libc::c_long = 5;
pub(crate) const BPF_PROG_ATTACH: libc::c_long = 8;
pub(crate) const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
pub(crate) const BPF_CGROUP_DEVICE: u32 = 6;
pub(crate) const BPF_F_ALLOW_MULTI: u32 = 2;

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program; the kernel verifies it.
pub fn load_device_program(insns: &[BpfInsn]) -> io::Result<OwnedFd> {
    let license = c"GPL";
    let attr = BpfProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 0,
        log_size: 0,
        log_buf: 0,
        kern_version: 0,
        prog_flags: 0,
    };
    // SAFETY: attr is a valid prefix of bpf_attr for BPF_PROG_LOAD, its pointers live
    // across the call, and size is its own (bpf(2)).
    let fd = check_long(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_LOAD,
            &attr as *const BpfProgLoadAttr,
            std::mem::size_of::<BpfProgLoadAttr>() as libc::c_uint,
        )
    })?;
    // SAFETY: a successful BPF_PROG_LOAD returns a new fd that we own (bpf(2)).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// bpf(BPF_PROG_ATTACH) of a device program to the cgroup directory `cgroup`, allowing
/// others beside it (BPF_F_ALLOW_MULTI, as systemd attaches its own): a device must pass
/// every program from the cgroup up to the root.
pub fn attach_device_program(cgroup: &OwnedFd, prog: &OwnedFd) -> io::Result<()> {
    let attr = BpfProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    // SAFETY: attr is a valid prefix of bpf_attr for BPF_PROG_ATTACH with open fds
    // (bpf(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_ATTACH,
            &attr as *const BpfProgAttachAttr,
            std::mem::size_of::<BpfProgAttachAttr>() as libc::c_uint,
        )
    })
    .map(drop)
}
