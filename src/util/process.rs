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
