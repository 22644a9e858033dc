// SPDX-License-Identifier: GPL-2.0
//! Scenarios of ring setups users run that the basic ones do not: a
//! `DEFER_TASKRUN` ring, a registered ring fd, workers of both accounting
//! classes under `IORING_REGISTER_IOWQ_MAX_WORKERS`, and a worker left
//! outside a changed `IORING_REGISTER_IOWQ_AFF` mask. Each asserts the
//! keepalive (past io-wq's idle timeout) and the exit after the last ring.

use std::ffi::CString;
use std::fs;
use std::os::fd::AsRawFd;
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};

use crate::{
    async_write, clean_start, ms, scratch_file, wait_for, workers, Res, APPEAR_BOUND, EXIT_BOUND,
    IDLE_WAIT,
};

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// The worker count after [`IDLE_WAIT`] must be `want`.
fn kept(want: usize, what: &str) -> Result<(), String> {
    std::thread::sleep(IDLE_WAIT);
    match workers() {
        n if n == want => Ok(()),
        n => Err(format!(
            "{n} workers {:.1} s after the last request {what}, expected {want}",
            IDLE_WAIT.as_secs_f32()
        )),
    }
}

fn gone_after(what: &str) -> Result<Duration, String> {
    wait_for(EXIT_BOUND, || workers() == 0).ok_or_else(|| {
        format!(
            "{} workers still there {} after {what}",
            workers(),
            ms(EXIT_BOUND)
        )
    })
}

/// A `SINGLE_ISSUER | DEFER_TASKRUN` ring: its task_work is local to the
/// ring, run by the submitter; the worker is kept and goes as with any ring.
pub fn defer_taskrun() -> Res {
    clean_start()?;
    let file = scratch_file("defer")?;
    let mut ring = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(8)
        .map_err(|e| format!("io_uring_setup(SINGLE_ISSUER|DEFER_TASKRUN): {e}"))?;
    async_write(&mut ring, &file, b"defer taskrun\n")?;
    let up = wait_for(APPEAR_BOUND, || workers() > 0).ok_or("no iou-wrk thread")?;
    kept(1, "with the ring open")?;
    drop(ring);
    let gone = gone_after("the ring was closed")?;
    Ok(format!(
        "worker up in {}, 1 kept {:.1} s, gone {} after close",
        ms(up),
        IDLE_WAIT.as_secs_f32(),
        ms(gone)
    ))
}

const IORING_UNREGISTER_RING_FDS: u32 = 21;
const IORING_REGISTER_USE_REGISTERED_RING: u32 = 1 << 31;

/// A registered ring fd (`IORING_REGISTER_RING_FDS`) is a reference to the
/// ring of its own: with the fd closed the ring lives on, and so does the
/// worker; unregistering it drops the last reference, and the worker goes.
/// In a thread of its own, whose ring-fd table starts empty.
pub fn registered_fd() -> Res {
    std::thread::spawn(|| -> Res {
        clean_start()?;
        let file = scratch_file("regfd")?;
        let ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
        let mut sub = ring.submitter();
        sub.register_ring_fd()
            .map_err(|e| format!("IORING_REGISTER_RING_FDS: {e}"))?;
        let buf = b"registered ring\n";
        let sqe = opcode::Write::new(types::Fd(file.as_raw_fd()), buf.as_ptr(), buf.len() as u32)
            .offset(0)
            .build()
            .flags(squeue::Flags::ASYNC);
        // SAFETY: no other submission queue handle exists; `buf` is static.
        unsafe { ring.submission_shared().push(&sqe) }.map_err(|_| "submission queue full")?;
        // Entered through the registered index.
        sub.submit_and_wait(1)
            .map_err(|e| format!("io_uring_enter(REGISTERED_RING): {e}"))?;
        // SAFETY: no other completion queue handle exists.
        let res = unsafe { ring.completion_shared() }
            .next()
            .map(|c| c.result());
        if res != Some(buf.len() as i32) {
            return Err(format!(
                "write through the registered ring returned {res:?}"
            ));
        }
        wait_for(APPEAR_BOUND, || workers() > 0).ok_or("no iou-wrk thread")?;
        drop(ring);
        kept(1, "with the ring fd closed but still registered")?;
        let up = [0u64; 2]; // io_uring_rsrc_update { offset 0, resv, data }
                            // SAFETY: io_uring_register(2) on registered ring index 0 (the
                            // first free slot of this thread's fresh table) with one update.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_io_uring_register,
                0,
                IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING,
                up.as_ptr(),
                1,
            )
        };
        if rc != 1 {
            return Err(format!("IORING_UNREGISTER_RING_FDS: {rc}, {}", errno()));
        }
        let gone = gone_after("the ring fd was unregistered (its last reference)")?;
        Ok(format!(
            "fd closed, still registered: 1 worker kept {:.1} s; unregistered: gone in {}",
            IDLE_WAIT.as_secs_f32(),
            ms(gone)
        ))
    })
    .join()
    .unwrap_or_else(|_| Err("the test thread panicked".into()))
}

/// FIFOs in a fresh directory; removed with it.
pub struct Fifos(std::path::PathBuf, pub Vec<CString>);

impl Fifos {
    pub fn new(name: &str, n: usize) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("iowq-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut v = Vec::new();
        for i in 0..n {
            let p = CString::new(dir.join(i.to_string()).to_string_lossy().as_bytes()).unwrap();
            // SAFETY: a valid C string.
            if unsafe { libc::mkfifo(p.as_ptr(), 0o600) } != 0 {
                return Err(format!("mkfifo {p:?}: {}", errno()));
            }
            v.push(p);
        }
        Ok(Fifos(dir, v))
    }

    /// Lets the blocked open of FIFO `i` complete: opens it for writing
    /// once its reader waits.
    fn release(&self, i: usize) -> Result<(), String> {
        wait_for(APPEAR_BOUND, || {
            // SAFETY: a valid C string.
            let fd = unsafe { libc::open(self.1[i].as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) };
            if fd >= 0 {
                // SAFETY: our fd.
                unsafe { libc::close(fd) };
            }
            fd >= 0
        })
        .map(|_| ())
        .ok_or_else(|| format!("no reader on FIFO {i}"))
    }
}

impl Drop for Fifos {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Queues an `IOSQE_ASYNC` open of `path` for reading: on a FIFO, it blocks
/// a bound worker until a writer opens it.
pub fn push_open(ring: &mut IoUring, path: &CString, tag: u64) -> Result<(), String> {
    let sqe = opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
        .flags(libc::O_RDONLY)
        .build()
        .flags(squeue::Flags::ASYNC)
        .user_data(tag);
    // SAFETY: the caller keeps `path` until the request completed or the
    // ring is gone.
    unsafe { ring.submission().push(&sqe) }.map_err(|_| "submission queue full".to_string())
}

/// Both accounting classes and `IORING_REGISTER_IOWQ_MAX_WORKERS`: query
/// with `[0, 0]`, set the unbound limit alone with `[0, N]`, then three
/// bound workers blocked in FIFO opens and one unbound worker (a pipe read,
/// armed for poll), the limits shrunk to `[1, 1]` below the live workers.
/// The opens all complete; the surplus bound workers time out, and exactly
/// one worker per class is kept; the close takes both.
pub fn classes() -> Res {
    clean_start()?;
    let fifos = Fifos::new("classes", 3)?;
    let mut ring = IoUring::new(16).map_err(|e| format!("io_uring_setup: {e}"))?;
    let mut q = [0u32, 0];
    ring.submitter()
        .register_iowq_max_workers(&mut q)
        .map_err(|e| format!("IORING_REGISTER_IOWQ_MAX_WORKERS [0, 0]: {e}"))?;
    if q[0] == 0 || q[1] == 0 {
        return Err(format!(
            "the [0, 0] query returned {q:?}, expected both limits"
        ));
    }
    let mut set = [0u32, 4];
    ring.submitter()
        .register_iowq_max_workers(&mut set)
        .map_err(|e| format!("IORING_REGISTER_IOWQ_MAX_WORKERS [0, 4]: {e}"))?;
    let mut after = [0u32, 0];
    ring.submitter()
        .register_iowq_max_workers(&mut after)
        .map_err(|e| format!("IORING_REGISTER_IOWQ_MAX_WORKERS [0, 0]: {e}"))?;
    if set != q || after != [q[0], 4] {
        return Err(format!(
            "[0, 4] returned {set:?} (expected the old {q:?}) and left {after:?} (expected [{}, 4])",
            q[0]
        ));
    }

    for i in 0..3 {
        push_open(&mut ring, &fifos.1[i], i as u64)?;
    }
    let mut pipe = [0; 2];
    // SAFETY: pipe(2) into a two-element array.
    if unsafe { libc::pipe(pipe.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", errno()));
    }
    let mut buf = [0u8; 8];
    let sqe = opcode::Read::new(types::Fd(pipe[0]), buf.as_mut_ptr(), buf.len() as u32)
        .build()
        .flags(squeue::Flags::ASYNC)
        .user_data(9);
    // SAFETY: `buf` outlives the ring, which is closed below.
    unsafe { ring.submission().push(&sqe) }.map_err(|_| "submission queue full")?;
    ring.submit().map_err(|e| format!("io_uring_enter: {e}"))?;
    let up = wait_for(APPEAR_BOUND, || workers() == 4)
        .ok_or_else(|| format!("{} workers, expected 3 bound and 1 unbound", workers()))?;

    let mut shrink = [1u32, 1];
    ring.submitter()
        .register_iowq_max_workers(&mut shrink)
        .map_err(|e| format!("IORING_REGISTER_IOWQ_MAX_WORKERS [1, 1]: {e}"))?;
    for i in 0..3 {
        fifos.release(i)?;
    }
    ring.submit_and_wait(3)
        .map_err(|e| format!("io_uring_enter: {e}"))?;
    let mut opened = 0;
    for c in ring.completion() {
        if c.user_data() < 3 && c.result() >= 0 {
            opened += 1;
            // SAFETY: the fd the open returned is ours.
            unsafe { libc::close(c.result()) };
        }
    }
    if opened != 3 {
        return Err(format!(
            "{opened} of the 3 FIFO opens completed after the shrink"
        ));
    }
    kept(2, "with the ring open (3 bound and 1 unbound before)")?;
    drop(ring);
    let gone = gone_after("the ring was closed")?;
    // SAFETY: our pipe fds.
    unsafe {
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
    Ok(format!(
        "limits {q:?}, [0, 4] -> {after:?}; 4 workers up in {}; shrunk to [1, 1], 3 opens done; \
         {:.1} s later 2 kept (one per class); gone {} after close",
        ms(up),
        IDLE_WAIT.as_secs_f32(),
        ms(gone)
    ))
}

fn cpu_set(cpu: usize) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the CPU is within the set's size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    set
}

/// `IORING_REGISTER_IOWQ_AFF` changed under a kept worker: the worker,
/// created on CPU 0, is left outside the new mask (CPU 1 only), and io-wq
/// lets it go at its idle timeout although it is the last one (the
/// `exit_mask` path); the ring stays open, and the next request gets a new
/// worker, which is kept.
pub fn iowq_aff() -> Res {
    clean_start()?;
    // SAFETY: plain sysconf(3).
    if unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } < 2 {
        return Err("needs two CPUs (the guest boots with -smp 2)".into());
    }
    let file = scratch_file("aff")?;
    let mut ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    ring.submitter()
        .register_iowq_aff(&cpu_set(0))
        .map_err(|e| format!("IORING_REGISTER_IOWQ_AFF(CPU 0): {e}"))?;
    async_write(&mut ring, &file, b"cpu 0\n")?;
    wait_for(APPEAR_BOUND, || workers() == 1).ok_or("no iou-wrk thread")?;
    ring.submitter()
        .register_iowq_aff(&cpu_set(1))
        .map_err(|e| format!("IORING_REGISTER_IOWQ_AFF(CPU 1): {e}"))?;
    let left = wait_for(IDLE_WAIT + EXIT_BOUND, || workers() == 0).ok_or_else(|| {
        format!(
            "the worker outside the new mask is still there {} later",
            ms(IDLE_WAIT + EXIT_BOUND)
        )
    })?;
    // Its idle timeout, not an exit at once: it idled since just before
    // the change.
    if left < Duration::from_secs(3) {
        return Err(format!(
            "the worker outside the new mask left {} after the change, before its 5 s idle timeout",
            ms(left)
        ));
    }
    async_write(&mut ring, &file, b"cpu 1\n")?;
    wait_for(APPEAR_BOUND, || workers() == 1).ok_or("no new worker on the next request")?;
    kept(1, "inside the mask, ring open")?;
    drop(ring);
    let gone = gone_after("the ring was closed")?;
    Ok(format!(
        "the worker outside the mask left {} after the change (at its 5 s idle timeout; \
         bounds 3 s..{}), ring open; \
         the next one kept {:.1} s, gone {} after close",
        ms(left),
        ms(IDLE_WAIT + EXIT_BOUND),
        IDLE_WAIT.as_secs_f32(),
        ms(gone)
    ))
}

/// A job for a [`TestThread`] thread.
type Job<T> = Box<dyn FnOnce() -> Result<T, String> + Send>;

/// A thread of its own that runs jobs on command and reports their results;
/// exits on [`TestThread::exit`].
struct TestThread<T: Send + 'static> {
    go: std::sync::mpsc::Sender<Option<Job<T>>>,
    done: std::sync::mpsc::Receiver<Result<T, String>>,
    handle: std::thread::JoinHandle<()>,
}

impl<T: Send + 'static> TestThread<T> {
    fn new() -> Self {
        let (go, cmd) = std::sync::mpsc::channel::<Option<Job<T>>>();
        let (report, done) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            while let Ok(Some(f)) = cmd.recv() {
                let _ = report.send(f());
            }
        });
        TestThread { go, done, handle }
    }

    fn run(&self, f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
        self.go
            .send(Some(Box::new(f)))
            .map_err(|_| "a test thread is gone")?;
        self.done.recv().map_err(|_| "a test thread is gone")?
    }

    fn exit(self) {
        let _ = self.go.send(None);
        let _ = self.handle.join();
    }
}

/// Threads and ring lifetimes: thread A exits while thread B keeps its
/// ring; A's workers go with A, B's are kept. Then thread C uses the ring A
/// created (still open: the fd table is the process's), gets a worker of
/// its own, kept; closing that ring takes C's worker and leaves B's, and
/// closing B's ring takes B's.
pub fn thread_exit() -> Res {
    clean_start()?;
    type Ring = (IoUring, fs::File, libc::pid_t);
    let make = |name: &'static str| {
        move || -> Result<Ring, String> {
            let file = scratch_file(name)?;
            let mut ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
            async_write(&mut ring, &file, b"thread\n")?;
            Ok((ring, file, crate::gettid()))
        }
    };
    let a = TestThread::<Ring>::new();
    let b = TestThread::<Ring>::new();
    let (ring_a, file_a, ta) = a.run(make("ta"))?;
    let (ring_b, file_b, tb) = b.run(make("tb"))?;
    wait_for(APPEAR_BOUND, || {
        crate::workers_of(ta) == 1 && crate::workers_of(tb) == 1
    })
    .ok_or("threads A and B should have a worker each")?;
    a.exit();
    let a_gone = wait_for(EXIT_BOUND, || crate::workers_of(ta) == 0)
        .ok_or("thread A's worker outlived thread A")?;

    let c = TestThread::<libc::pid_t>::new();
    let mut ring_a = Some(ring_a);
    let (tx, rx) = std::sync::mpsc::channel();
    let tc = c.run(move || {
        let mut ring = ring_a.take().ok_or("no ring")?;
        async_write(&mut ring, &file_a, b"sibling's ring\n")?;
        let _ = tx.send(ring);
        Ok(crate::gettid())
    })?;
    let ring_a = rx.recv().map_err(|e| e.to_string())?;
    wait_for(APPEAR_BOUND, || crate::workers_of(tc) == 1)
        .ok_or("thread C has no worker after using A's ring")?;
    std::thread::sleep(IDLE_WAIT);
    let (kb, kc) = (crate::workers_of(tb), crate::workers_of(tc));
    if (kb, kc) != (1, 1) {
        return Err(format!(
            "{:.1} s idle with their rings open: B has {kb} workers, C {kc}; expected 1 each",
            IDLE_WAIT.as_secs_f32()
        ));
    }
    drop(ring_a);
    let c_gone = wait_for(EXIT_BOUND, || crate::workers_of(tc) == 0)
        .ok_or("thread C's worker stayed after the ring it used was closed")?;
    if crate::workers_of(tb) != 1 {
        return Err("thread B's worker left when another thread's ring was closed".into());
    }
    drop(ring_b);
    drop(file_b);
    let b_gone = wait_for(EXIT_BOUND, || crate::workers_of(tb) == 0)
        .ok_or("thread B's worker stayed after its ring was closed")?;
    b.exit();
    c.exit();
    Ok(format!(
        "A's worker gone {} after A exited; B's and C's (on A's ring) kept {:.1} s; C's gone {} \
         after A's ring was closed, B's kept, then gone {} after B's",
        ms(a_gone),
        IDLE_WAIT.as_secs_f32(),
        ms(c_gone),
        ms(b_gone)
    ))
}
