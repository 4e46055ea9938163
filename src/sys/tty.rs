//! Terminals and descriptor passing: pseudo-terminals, socket pairs with SCM_RIGHTS,
//! termios.

use super::*;

/// A new pseudo-terminal from the devpts instance whose `ptmx` is `ptmx` (an fd opened
/// O_PATH inside the container): (master, slave). The slave comes from TIOCGPTPEER, so it
/// is the peer of this master on this instance, reached through no path the image controls.
pub fn open_pty_at(ptmx: &OwnedFd) -> io::Result<(OwnedFd, OwnedFd)> {
    let path = cstr(&format!("/proc/self/fd/{}", ptmx.as_raw_fd()))?;
    // SAFETY: path is a valid C string (open(2)); reopening an O_PATH fd through its
    // /proc/self/fd entry opens the very same inode.
    let m = check(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: open just returned this descriptor, which nothing else owns.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int (pty(7), ioctl_tty(2)).
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new fd (ioctl_tty(2), Linux 4.13).
    let s = check(unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: the ioctl just returned this descriptor, which nothing else owns.
    Ok((master, unsafe { OwnedFd::from_raw_fd(s) }))
}

/// A connected pair of Unix stream sockets, for passing a descriptor (socketpair(2)).
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors socketpair(2) writes.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair just returned these two descriptors, which nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `f` with a message of one byte and room for one descriptor (SCM_RIGHTS, cmsg(3)): the
/// buffers live on this stack frame for the length of the call.
fn with_fd_msg<T>(byte: u8, f: impl FnOnce(&mut libc::msghdr) -> T) -> T {
    let mut byte = [byte];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: msghdr is plain data; the fields used are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    f(&mut msg)
}

/// Send descriptor `fd` over the Unix socket `sock` (SCM_RIGHTS, unix(7)), with one byte.
pub fn send_fd(sock: &OwnedFd, fd: &OwnedFd) -> io::Result<()> {
    with_fd_msg(b'f', |msg| {
        // SAFETY: msg_control points at a buffer of CMSG_SPACE(sizeof fd) bytes, so the
        // first header and its data fit (cmsg(3)).
        unsafe {
            let c = libc::CMSG_FIRSTHDR(msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
        }
        // SAFETY: msg describes valid buffers (sendmsg(2)).
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), msg, libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })
}

/// Receive one descriptor sent with `send_fd`; None when the other end closed first.
pub fn recv_fd(sock: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    with_fd_msg(0, |msg| {
        let n = loop {
            // SAFETY: msg describes valid buffers (recvmsg(2)); CMSG_CLOEXEC sets the flag on
            // the received fd.
            let n = unsafe { libc::recvmsg(sock.as_raw_fd(), msg, libc::MSG_CMSG_CLOEXEC) };
            if n >= 0 {
                break n;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        };
        if n == 0 {
            return Ok(None);
        }
        // SAFETY: the kernel filled msg_control; CMSG_FIRSTHDR returns NULL when it is empty.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(msg);
            if c.is_null()
                || (*c).cmsg_level != libc::SOL_SOCKET
                || (*c).cmsg_type != libc::SCM_RIGHTS
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "no descriptor in the message",
                ));
            }
            let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
            Ok(Some(OwnedFd::from_raw_fd(fd)))
        }
    })
}

/// The terminal's end-of-file character (VEOF, usually Ctrl-D) of terminal `fd`.
pub fn eof_char(fd: RawFd) -> u8 {
    tcgetattr(fd).map_or(4, |t| t.c_cc[libc::VEOF])
}

pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty only queries the descriptor (isatty(3)).
    unsafe { libc::isatty(fd) == 1 }
}

pub type Termios = libc::termios;

pub fn tcgetattr(fd: RawFd) -> io::Result<Termios> {
    // SAFETY: termios is plain data filled by tcgetattr(3).
    let mut t: Termios = unsafe { std::mem::zeroed() };
    // SAFETY: t is a valid out-pointer (tcgetattr(3)).
    check(unsafe { libc::tcgetattr(fd, &mut t) })?;
    Ok(t)
}

pub fn tcsetattr(fd: RawFd, t: &Termios) -> io::Result<()> {
    // SAFETY: t is a valid termios (tcsetattr(3)).
    check(unsafe { libc::tcsetattr(fd, libc::TCSANOW, t) }).map(drop)
}

pub fn make_raw(t: &mut Termios) {
    // SAFETY: cfmakeraw only edits the struct (termios(3)).
    unsafe { libc::cfmakeraw(t) }
}

/// Copy the window size of terminal `from` to terminal `to` (TIOCGWINSZ/TIOCSWINSZ).
pub fn copy_winsize(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: winsize is plain data.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills a winsize (ioctl_tty(2)).
    check(unsafe { libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) })?;
    // SAFETY: TIOCSWINSZ reads a winsize (ioctl_tty(2)).
    check(unsafe { libc::ioctl(to, libc::TIOCSWINSZ, &ws) }).map(drop)
}
