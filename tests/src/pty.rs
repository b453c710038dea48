//! Drives a program through a pseudo-terminal, as a person at a keyboard would: the tests of
//! `run -it` type into it and read what it prints, with every wait bounded.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A program running on the slave side of a terminal whose master the test holds.
#[derive(Debug)]
pub struct PtySession {
    master: File,
    child: Child,
    /// Everything read from the terminal so far.
    pub transcript: String,
}

impl PtySession {
    /// Starts `command` with a new terminal as its controlling terminal and stdio.
    pub fn spawn(mut command: Command) -> std::io::Result<Self> {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors into the provided ints; name and termios are
        // optional (null), the window size is read from `size`.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: openpty just returned these two open descriptors, now owned here.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        command
            .stdin(slave.try_clone()?)
            .stdout(slave.try_clone()?)
            .stderr(slave.try_clone()?);
        // SAFETY: setsid and ioctl are async-signal-safe, as required between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        drop(slave);
        Ok(PtySession {
            master: File::from(master),
            child,
            transcript: String::new(),
        })
    }

    /// Types `text` into the terminal.
    pub fn send(&mut self, text: &str) {
        self.master
            .write_all(text.as_bytes())
            .expect("write to the terminal");
    }

    /// Reads until the transcript (from `from` on) contains `needle`; panics after `timeout`
    /// with what was read, so a failure shows the screen.
    pub fn expect(&mut self, needle: &str, from: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.transcript[from.min(self.transcript.len())..].find(needle) {
                return from + at + needle.len();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {needle:?}; terminal so far:\n{}",
                self.transcript
            );
            if !self.read_some(left) {
                panic!(
                    "terminal closed while waiting for {needle:?}; terminal so far:\n{}",
                    self.transcript
                );
            }
        }
    }

    /// Waits up to `timeout` for output and appends it; false once the terminal is closed.
    fn read_some(&mut self, timeout: Duration) -> bool {
        let mut poll = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        if ready <= 0 {
            return true;
        }
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.transcript
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
                true
            }
        }
    }

    /// Waits up to `timeout` for the program to exit, draining the terminal meanwhile;
    /// kills it and panics on timeout.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the program") {
                return status;
            }
            if Instant::now() >= deadline {
                // Best effort: the panic below is the report.
                let _killed = self.child.kill();
                panic!(
                    "program did not exit; terminal so far:\n{}",
                    self.transcript
                );
            }
            self.read_some(Duration::from_millis(20));
        }
    }
}
