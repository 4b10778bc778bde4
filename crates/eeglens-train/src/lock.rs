//! The run directory's lock: one training process per run directory at a time.
//!
//! [`RunLock::acquire`] creates `train.lock` in the run directory with
//! `create_new` (atomic: of two processes, exactly one creates it) and writes
//! the owner's pid, host and start time into it; dropping the lock removes the
//! file. A second process finds the file and is refused with an error naming
//! the owner. A lock whose owner is gone (a killed process; the pid is not
//! running on this host) is stale: it is taken over, and the caller is told
//! whose it was. A lock written on another host is never taken over (its pid
//! cannot be checked from here); the error says how to remove it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// File name of the lock in a run directory.
pub const LOCK_FILE: &str = "train.lock";

/// A lock file younger than this without contents is being written by its
/// creator; older, it is left over from a crash at that moment.
const CREATING: Duration = Duration::from_secs(10);

/// Locks this process holds (a pid alone cannot tell this process's lock from
/// a stale one left by an earlier process that had the same pid).
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Who holds (or held) a run directory's lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// process id
    pub pid: u32,
    /// host name
    pub host: String,
    /// when the lock was taken, seconds since 1970
    pub started_unix_s: u64,
}

impl Holder {
    fn me() -> Self {
        Holder { pid: std::process::id(), host: host_name(), started_unix_s: now_s() }
    }

    /// `pid 1234 on host h, since 35 s`.
    pub fn describe(&self) -> String {
        format!(
            "pid {} on host {}, since {} s",
            self.pid,
            self.host,
            now_s().saturating_sub(self.started_unix_s)
        )
    }
}

/// The held lock of one run directory; released (the file removed) on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    me: Holder,
    /// remove the directory on release when it is then empty (it was created for the lock)
    created_dir: bool,
}

impl RunLock {
    /// Takes the lock of `dir`, creating the directory when it is missing
    /// (and removing it again on release when nothing else was written to
    /// it). Returns the lock and, when a stale lock was taken over, whose it was.
    ///
    /// # Errors
    /// [`TrainError::Locked`] when another live process holds it (or one on
    /// another host, or this process itself); [`TrainError::Io`] when the file
    /// cannot be created or read.
    pub fn acquire(dir: &Path) -> Result<(RunLock, Option<Holder>), TrainError> {
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let me = Holder::me();
        let mut taken_over = None;
        // A few rounds: a takeover or a release by another process may happen in between.
        for _ in 0..4 {
            match std::fs::File::options().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let text = serde_json::to_string(&me).expect("plain data serialises to JSON") + "\n";
                    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| {
                        let _ = std::fs::remove_file(&path);
                        TrainError::io(&path, e)
                    })?;
                    HELD.lock().expect("not poisoned").push(path.clone());
                    return Ok((RunLock { path, me, created_dir }, taken_over));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(TrainError::io(&path, e)),
            }
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(TrainError::io(&path, e)),
            };
            let holder = match serde_json::from_str::<Holder>(&text) {
                Ok(h) => Some(h),
                Err(_) if text.trim().is_empty() && young(&path) => {
                    return Err(locked(&path, "a process that is starting to train it".into()));
                }
                // Empty and old (its creator died at once), or not ours: nobody holds it.
                Err(_) => None,
            };
            if let Some(h) = &holder {
                if h.host != me.host {
                    return Err(locked(
                        &path,
                        format!(
                            "{} (another host: if that process is gone, remove {})",
                            h.describe(),
                            path.display()
                        ),
                    ));
                }
                let mine = HELD.lock().expect("not poisoned").contains(&path);
                if (h.pid == me.pid && mine) || (h.pid != me.pid && alive(h.pid)) {
                    return Err(locked(&path, h.describe()));
                }
            }
            // Stale. Remove it only if it is still the file just read: another
            // process may have taken it over in the meantime.
            if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(TrainError::io(&path, e)),
                }
                taken_over = holder.or(taken_over);
            }
        }
        Err(locked(&path, "other processes that keep taking it".into()))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        HELD.lock().expect("not poisoned").retain(|p| p != &self.path);
        // Remove the file only while it is still ours.
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<Holder>(&t).ok())
            .is_some_and(|h| h == self.me);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(dir) = self.path.parent().filter(|_| self.created_dir) {
            // Fails, as it should, unless the directory is empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn locked(path: &Path, by: String) -> TrainError {
    TrainError::Locked { path: path.to_path_buf(), by }
}

fn young(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().unwrap_or_default() < CREATING)
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// This machine's name (`unknown` when it cannot be read).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether process `pid` runs on this host. Where that cannot be told
/// (no `/proc`), every pid counts as running: a lock is never taken from a
/// live process.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        // A zombie (state `Z`) has ended; it only waits for its parent.
        Ok(stat) => stat.rsplit_once(')').is_none_or(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> crate::scratch::Scratch {
        let d = std::env::temp_dir().join(format!("eeglens-train-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        crate::scratch::Scratch(d)
    }

    #[test]
    fn a_held_lock_refuses_a_second_owner_and_is_released_on_drop() {
        let d = dir("held");
        let (lock, taken) = RunLock::acquire(&d).expect("free");
        assert!(taken.is_none() && lock.path().is_file());
        let e = RunLock::acquire(&d).expect_err("held by this process");
        let msg = e.to_string();
        assert!(msg.contains(&format!("pid {}", std::process::id())) && msg.contains("train.lock"), "{msg}");
        drop(lock);
        assert!(!d.join(LOCK_FILE).exists());
        let (_again, taken) = RunLock::acquire(&d).expect("free again");
        assert!(taken.is_none());
    }

    #[test]
    fn a_stale_lock_is_taken_over_and_a_foreign_host_s_is_not() {
        let d = dir("stale");
        let path = d.join(LOCK_FILE);
        // A pid above the kernel's limit (4194304) never runs.
        let dead = Holder { pid: 4_194_999, host: host_name(), started_unix_s: 1 };
        std::fs::write(&path, serde_json::to_string(&dead).expect("json")).expect("write");
        let (lock, taken) = RunLock::acquire(&d).expect("stale");
        assert_eq!(taken, Some(dead));
        drop(lock);
        // An earlier process with this process's pid (a container restart) left it.
        let me_before = Holder { started_unix_s: 1, ..Holder::me() };
        std::fs::write(&path, serde_json::to_string(&me_before).expect("json")).expect("write");
        let (lock, taken) = RunLock::acquire(&d).expect("stale, same pid");
        assert_eq!(taken, Some(me_before));
        drop(lock);
        let elsewhere = Holder { pid: 4_194_999, host: "another-node".into(), started_unix_s: 1 };
        std::fs::write(&path, serde_json::to_string(&elsewhere).expect("json")).expect("write");
        let msg = RunLock::acquire(&d).expect_err("other host").to_string();
        assert!(msg.contains("another-node") && msg.contains("remove"), "{msg}");
        // An empty lock file just created by a starting process is respected.
        std::fs::write(&path, "").expect("write");
        let msg = RunLock::acquire(&d).expect_err("being created").to_string();
        assert!(msg.contains("starting"), "{msg}");
    }
}
