//! Process-wide hardening every face applies at start: no core dumps (a dump would hold the
//! plaintexts and keys in memory), and the file-descriptor limit raised so many clients of the
//! loopback API cannot exhaust it.

/// Forbids core dumps: `RLIMIT_CORE` 0, and not dumpable (which also keeps other processes of the
/// same user from attaching a debugger). Best effort: says what failed, never stops the program.
pub fn forbid_core_dumps() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit and prctl take plain values; no memory is shared with the kernel.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
            return Err(format!(
                "cannot turn core dumps off: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: as above.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            return Err(format!(
                "cannot mark the process not dumpable: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// A write to a closed pipe ends the process quietly, as it does `cat` or `grep`
/// (`keyconsole key list | head`), instead of Rust's default of an error that printing turns into
/// a panic. Only for commands that write to standard output and nothing else: a server must keep
/// ignoring SIGPIPE, or a client that hangs up would end it.
pub fn quit_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: signal() with SIG_DFL installs no handler of ours; nothing is shared.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// A file grown past the process's size limit (`ulimit -f`) fails its write with EFBIG, which is
/// reported and refused like a full disk, instead of the signal that would kill the process
/// mid-save.
pub fn refuse_writes_past_file_size_limit() {
    #[cfg(unix)]
    // SAFETY: signal() with SIG_IGN installs no handler of ours; nothing is shared.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Raises the soft limit on open files to the hard one; returns the limit now in force.
pub fn raise_fd_limit() -> Result<u64, String> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(format!(
                "cannot read the open-file limit: {}",
                std::io::Error::last_os_error()
            ));
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit reads the struct we own.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
                return Err(format!(
                    "cannot raise the open-file limit: {}",
                    std::io::Error::last_os_error()
                ));
            }
            limit = raised;
        }
        Ok(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    Ok(0)
}

/// Turns transparent huge pages off for this process. The allocator marks its regions for them
/// (mimalloc's `madvise(MADV_HUGEPAGE)`), so the kernel's khugepaged thread comes by every few
/// seconds to copy small pages into a huge one, and while it does the process's page faults wait:
/// a server thread stalled 2.5 ms under load here (seen with `perf sched`). A server's memory is
/// small and reused, so huge pages gain it little. Linux only; elsewhere nothing changes.
pub fn disable_transparent_huge_pages() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and reads no memory.
        if unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0 {
            return Err(format!(
                "cannot turn transparent huge pages off: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// How much lower than the threads answering requests a server's background threads run (a
/// `nice` value): the upkeep thread's saves and the access log's writer, each of which once held
/// up a request thread at normal priority. At 10 they still get far more CPU than they need.
pub const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority (a `nice` value, 0 to 19). Background work that must
/// not delay the threads answering requests calls it once; an unprivileged thread cannot raise
/// its priority again, so it is only called on threads of their own. Linux only (where a thread
/// has its own nice value); elsewhere nothing changes.
pub fn lower_this_threads_priority(nice: i32) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take and return plain values.
        let thread = unsafe { libc::gettid() };
        let Ok(thread) = libc::id_t::try_from(thread) else {
            return Ok(());
        };
        // SAFETY: as above; PRIO_PROCESS with a thread id sets that thread's nice value.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, thread, nice) } != 0 {
            return Err(format!(
                "cannot lower the thread's priority: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn a_thread_lowers_its_own_priority_and_no_other() {
        // SAFETY: getpriority takes plain values; errno is cleared first as its man page asks.
        let priority_of = |thread: libc::pid_t| unsafe {
            *libc::__errno_location() = 0;
            libc::getpriority(libc::PRIO_PROCESS, thread as libc::id_t)
        };
        // SAFETY: gettid takes nothing.
        let mine = priority_of(unsafe { libc::gettid() });
        let lowered = std::thread::spawn(move || {
            super::lower_this_threads_priority(10).expect("lowering is always allowed");
            // SAFETY: as above.
            priority_of(unsafe { libc::gettid() })
        })
        .join()
        .expect("thread");
        assert_eq!(lowered, (mine + 10).min(19));
        // SAFETY: as above.
        assert_eq!(priority_of(unsafe { libc::gettid() }), mine);
    }
}
