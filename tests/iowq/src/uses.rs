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

pub fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// Opens FIFO `path` for writing, without blocking, as soon as a reader
/// waits on it (within `bound`): that lets the reader's open complete.
pub fn open_writer(path: &CString, bound: Duration, what: &str) -> Result<(), String> {
    let mut err = String::new();
    wait_for(bound, || {
        // SAFETY: a valid C string.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) };
        if fd >= 0 {
            // SAFETY: our fd.
            unsafe { libc::close(fd) };
            return true;
        }
        err = errno().to_string();
        false
    })
    .map(|_| ())
    .ok_or_else(|| format!("no reader on {what}: {err}"))
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

    /// Lets the blocked open of FIFO `i` complete.
    fn release(&self, i: usize) -> Result<(), String> {
        open_writer(&self.1[i], APPEAR_BOUND, &format!("FIFO {i}"))
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

/// A ring's `io_uring_params`, as hex, to map the ring in another image.
fn params_hex(ring: &IoUring) -> String {
    let p: &io_uring::Parameters = ring.params();
    // SAFETY: Parameters is a transparent wrapper of the plain C struct
    // io_uring_params; reading its bytes is reading that struct.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (p as *const io_uring::Parameters).cast::<u8>(),
            std::mem::size_of::<io_uring::Parameters>(),
        )
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ring behind `fd`, mapped with the parameters [`params_hex`] gave.
fn ring_from(fd: i32, hex: &str) -> Result<IoUring, String> {
    let n = std::mem::size_of::<io_uring::Parameters>();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    if bytes.len() != n {
        return Err(format!(
            "{} bytes of io_uring_params, expected {n}",
            bytes.len()
        ));
    }
    // SAFETY: `bytes` is the io_uring_params the kernel filled in for this
    // ring (params_hex() in the image that set it up), and Parameters is a
    // transparent wrapper of it ("can be created from any properly
    // laid-out and initialized memory representation").
    let params = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<io_uring::Parameters>()) };
    // SAFETY: `fd` is an io_uring fd this process owns from now on.
    unsafe { IoUring::from_fd(fd, params) }.map_err(|e| format!("mapping the inherited ring: {e}"))
}

/// exec() without fork() while holding a ring: the old image's io-wq goes
/// at exec, the new image uses the inherited ring, gets a worker of its
/// own, keeps it, and loses it when it closes the ring. Runs in a child.
pub fn exec_keep() -> Res {
    clean_start()?;
    let mut out = [0; 2];
    // SAFETY: pipe(2) into a two-element array.
    if unsafe { libc::pipe(out.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", errno()));
    }
    // SAFETY: single-threaded here (no worker); the child execs or exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let r = (|| -> Result<(), String> {
            let file = scratch_file("exec")?;
            let ring = crate::ring_with_worker(&file)?;
            wait_for(APPEAR_BOUND, || workers() == 1).ok_or("no worker before exec")?;
            let fd = ring.as_raw_fd();
            let args: Vec<CString> = [
                "iowq-test".to_string(),
                EXEC_RING.to_string(),
                fd.to_string(),
                params_hex(&ring),
                out[1].to_string(),
            ]
            .iter()
            .map(|a| CString::new(a.as_str()).unwrap())
            .collect();
            let argv: Vec<*const libc::c_char> = args
                .iter()
                .map(|a| a.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect();
            let exe = CString::new("/proc/self/exe").unwrap();
            // SAFETY: the ring fd and the pipe stay open across exec; then
            // execv() with a NULL-terminated argv.
            unsafe {
                libc::fcntl(fd, libc::F_SETFD, 0);
                libc::fcntl(out[1], libc::F_SETFD, 0);
                libc::execv(exe.as_ptr(), argv.as_ptr());
            }
            Err(format!("execv: {}", errno()))
        })();
        let msg = format!("FAIL before exec: {}\n", r.err().unwrap_or_default());
        // SAFETY: writing to our pipe, then leaving.
        unsafe {
            libc::write(out[1], msg.as_ptr().cast(), msg.len());
            libc::_exit(1);
        }
    }
    // SAFETY: the write end is the child's.
    unsafe { libc::close(out[1]) };
    let mut text = String::new();
    {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        // SAFETY: out[0] is ours; File closes it.
        let _ = unsafe { fs::File::from_raw_fd(out[0]) }.read_to_string(&mut text);
    }
    let status = crate::reap(pid);
    let line = text.lines().next().unwrap_or("").to_string();
    match line.strip_prefix("OK ") {
        Some(m) if status == 0 => Ok(m.to_string()),
        _ => Err(format!(
            "{} (child status {status:#x})",
            line.trim_start_matches("FAIL ")
        )),
    }
}

/// `argv[1]` of the image exec_keep() execs.
pub const EXEC_RING: &str = "--exec-ring";

/// The exec'd image of exec_keep(): `fd` the inherited ring, `hex` its
/// parameters, `out` the pipe for the result line.
pub fn exec_ring_main(fd: &str, hex: &str, out: &str) -> i32 {
    let r = (|| -> Res {
        let fd: i32 = fd.parse().map_err(|_| "bad fd")?;
        let old = wait_for(EXIT_BOUND, || workers() == 0)
            .ok_or("the old image's worker survived exec")?;
        let mut ring = ring_from(fd, hex)?;
        let file = scratch_file("exec2")?;
        async_write(&mut ring, &file, b"after exec\n")?;
        let up = wait_for(APPEAR_BOUND, || workers() == 1)
            .ok_or("no worker for the new image on the inherited ring")?;
        kept(1, "in the new image, the inherited ring open")?;
        drop(ring);
        let gone = gone_after("the new image closed the inherited ring")?;
        Ok(format!(
            "old image's worker gone {} after exec; the new image's worker on the inherited \
             ring up in {}, 1 kept {:.1} s, gone {} after close",
            ms(old),
            ms(up),
            IDLE_WAIT.as_secs_f32(),
            ms(gone)
        ))
    })();
    let line = match &r {
        Ok(m) => format!("OK {m}\n"),
        Err(e) => format!("FAIL {e}\n"),
    };
    let out: i32 = out.parse().unwrap_or(-1);
    // SAFETY: writing to the inherited pipe.
    unsafe { libc::write(out, line.as_ptr().cast(), line.len()) };
    i32::from(r.is_err())
}

/// Sends `data` and the fd `fd` over the unix socket `sock`.
fn send_fd(sock: i32, fd: i32, data: &[u8]) -> Result<(), String> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: msghdr is plain data; the fields set point at live buffers,
    // and the CMSG macros stay within `cbuf`.
    let rc = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), fd);
        libc::sendmsg(sock, &msg, 0)
    };
    if rc != data.len() as isize {
        return Err(format!("sendmsg(SCM_RIGHTS): {rc}, {}", errno()));
    }
    Ok(())
}

/// Receives what [`send_fd`] sent: the data and the fd.
fn recv_fd(sock: i32) -> Result<(Vec<u8>, i32), String> {
    let mut data = vec![0u8; 1024];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: as in send_fd(); the kernel fills the buffers given.
    let (n, fd) = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        let c = libc::CMSG_FIRSTHDR(&msg);
        let fd = if n > 0 && !c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS {
            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<i32>())
        } else {
            -1
        };
        (n, fd)
    };
    if n <= 0 || fd < 0 {
        return Err(format!("recvmsg(SCM_RIGHTS): {n}, fd {fd}, {}", errno()));
    }
    data.truncate(n as usize);
    Ok((data, fd))
}

/// A ring fd passed over `SCM_RIGHTS`: the kernel refuses it (EINVAL,
/// net/core/scm.c: "don't allow io_uring files"), so no other process can
/// get a ring that way and use it. The control: a pipe fd passes over the
/// same socket with the same code.
pub fn scm_rights() -> Res {
    clean_start()?;
    let mut sv = [0; 2];
    // SAFETY: socketpair(2) into a two-element array.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) } != 0 {
        return Err(format!("socketpair: {}", errno()));
    }
    let mut pipe = [0; 2];
    // SAFETY: pipe(2) into a two-element array.
    if unsafe { libc::pipe(pipe.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", errno()));
    }
    let ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    let control = send_fd(sv[0], pipe[0], b"pipe").and_then(|_| recv_fd(sv[1]));
    let refused = send_fd(sv[0], ring.as_raw_fd(), b"ring");
    let errno = errno().raw_os_error();
    drop(ring);
    // SAFETY: our fds.
    unsafe {
        for fd in [sv[0], sv[1], pipe[0], pipe[1]] {
            libc::close(fd);
        }
    }
    let (data, fd) = control.map_err(|e| format!("the control, a pipe fd: {e}"))?;
    // SAFETY: the fd recvmsg() gave us.
    unsafe { libc::close(fd) };
    if data != b"pipe" {
        return Err("the control message came back garbled".into());
    }
    match refused {
        Err(_) if errno == Some(libc::EINVAL) => Ok(
            "a pipe fd passes over SCM_RIGHTS; the ring fd is refused with EINVAL, so no \
             other process can receive a ring that way"
                .into(),
        ),
        Err(e) => Err(format!(
            "sending the ring fd failed, but not with EINVAL: {e}"
        )),
        Ok(()) => Err("the kernel let a ring fd pass over SCM_RIGHTS".into()),
    }
}
