package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;

import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.Futex;
import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The memory one kernel session shares with task processes on its host (docs/shared-memory.md):
 * a kernel file (the lease's end, one slot per thread of an attached task) and a futex table per
 * memory object ({@link SharedFutexTable}), all in a directory of the session's own, made
 * owner-only ({@code rwx------}, with a random name) under the shared directory ({@code /dev/shm}
 * by default) and deleted with everything in it when the session ends. The directory is what
 * keeps other users out: nobody else can make a file of the session first (a predictable name in
 * the world-writable directory could be taken) or connect to its bell before it is made owner-only.
 * The session holds a lock on a file there while it lives, which tells later kernels a dead
 * session's directory to remove ({@link SessionDirectory}).
 *
 * <h2>Overview</h2>
 * <pre>
 *   task attached (TaskShmAttach)  -> its pid recorded; each thread it creates gets a slot
 *                                     (attached again: by that process only, the same slot)
 *   thread slot: FREE --thread_create--> IN USE (ctl = fast calls under way)
 *                IN USE --thread or task ends: REVOKED set, drained ({@link DrainWatcher})--> REVOKED
 *                REVOKED --a thread's: to its task's next threads; an ended task's (all of
 *                          them): to anybody once its process is dead--> FREE
 * </pre>
 * Which slot is whose, and when one is given again, is {@link ThreadSlots}' (with the bounds that
 * keep one client from taking every slot).
 * Thread-safe: the core claims slots, the task interface's threads read them; the objects' files
 * are made and deleted off the core thread ({@link SharedSessions#fileEffect}). A session's directory
 * and first files are made on a thread of their own ({@link #create}): an interrupt of the thread
 * asking for them (a close at exit ending a kernel's start) never lands in their I/O.
 */
public final class SharedMemory implements AutoCloseable {
    /** Thread slots per session (the kernel file's size: 64 bytes each, touched pages only). */
    public static final int THREAD_SLOTS = 16_384;
    /** Futex slots per memory object (32 bytes each): 3/4 of them are used before a table is full. */
    public static final int FUTEXES_PER_OBJECT = 16_384;

    /** The session's own directory (owner-only, locked while the session lives), inside {@link #shared}. */
    private final SessionDirectory own;
    private final Path dir;
    /** The directory the kernel shares memory in ({@code --shm-dir}). */
    private final Path shared;
    private final Path kernelFile;
    private final ByteBuffer kernel;
    /** Who holds each slot of the kernel file, and when one is given again. */
    private final ThreadSlots slots;
    /** The objects' files made so far; guarded by this. */
    private final List<Path> files = new ArrayList<>();
    /** The objects' futex tables made so far (made off the core, read by it). */
    private final List<SharedFutexTable> tables = new java.util.concurrent.CopyOnWriteArrayList<>();
    /**
     * The page files of the objects that have not ended, and of those that ended with slots still
     * due (their channels closed with the session, or when they leave: {@link #objectTerminated}).
     */
    private final List<SharedPages> pageFiles = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The page files of {@link #pageFiles} by object id, for the count records of a dead task process. */
    private final Map<Integer, SharedPages> pagesByObject = new ConcurrentHashMap<>();
    /** The page files of objects that ended, kept until their due slots are punched (core thread). */
    private final Map<Integer, SharedPages> ended = new java.util.HashMap<>();
    /** The kept slots of every page file of the session, capped with --max-pages (core thread). */
    private final KeptSlotBudget keptBudget = new KeptSlotBudget();
    private boolean closed;
    private final DrainWatcher drains;
    /** The call file, served by the core's event loop, or null: task processes make every call over gRPC. */
    private final CallReader calls;

    /** The sessions' shared memories made in this process so far: each one's files are its own. */
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** Whether sessions make a call file (-Dmachxp.shm.calls=false: no, every call over gRPC). */
    private static final boolean CALLS = Futex.AVAILABLE
            && Boolean.parseBoolean(System.getProperty("machxp.shm.calls", "true"));

    private SharedMemory(SessionDirectory own, CallLoop loop) throws IOException {
        this.own = own;
        this.dir = own.path();
        this.shared = dir.getParent();
        this.kernelFile = dir.resolve("kernel");
        this.kernel = create(kernelFile, ShmLayout.kernelFileSize(THREAD_SLOTS));
        LONG.set(kernel, ShmLayout.LEASE_END, Long.MIN_VALUE); // closed until the kernel's gate is mirrored
        INT.set(kernel, ShmLayout.THREAD_SLOTS, THREAD_SLOTS);
        LONG.setVolatile(kernel, 0, ShmLayout.KERNEL_MAGIC);
        this.drains = new DrainWatcher(kernel);
        this.slots = new ThreadSlots(kernel, THREAD_SLOTS, this::releaseCounts, DrainWatcher::alive);
        this.calls = CALLS && loop != null ? callFile(dir.resolve("calls"), loop) : null;
    }

    /** The call file and its bell, served by {@code loop}; null if the bell cannot be made (every call over gRPC). */
    private CallReader callFile(Path file, CallLoop loop) throws IOException {
        Path bellFile = Path.of(CallLayout.bellFile(file.toString()));
        String tooLong = bellPathTooLong(bellFile);
        if (tooLong != null) {
            org.slf4j.LoggerFactory.getLogger(SharedMemory.class).warn(tooLong);
            return null;
        }
        CallBell bell;
        try {
            bell = new CallBell(bellFile);
        } catch (IOException | UnsupportedOperationException e) {
            org.slf4j.LoggerFactory.getLogger(SharedMemory.class).warn("cannot make the bell socket {} ({}); task "
                    + "processes make their calls to this kernel over gRPC (choose a shorter --shm-dir)", bellFile,
                    e.toString());
            return null;
        }
        try {
            return new CallReader(file, create(file, CallLayout.fileSize(THREAD_SLOTS)), THREAD_SLOTS,
                    slots::given, bell, loop);
        } catch (IOException e) {
            bell.close();
            org.slf4j.LoggerFactory.getLogger(SharedMemory.class).warn("cannot make the call file {} ({}); task "
                    + "processes make their calls to this kernel over gRPC (give {} more room)", file, e.toString(), shared);
            return null;
        } catch (RuntimeException e) {
            bell.close();
            throw e;
        }
    }

    /** The longest path a Unix socket address takes (sun_path: 108 bytes with its terminating NUL). */
    static final int SOCKET_PATH_MAX = 107;

    /** The warning for a bell whose path a Unix socket address cannot take, or null if it fits. */
    static String bellPathTooLong(Path bellFile) {
        int bytes = bellFile.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        return bytes <= SOCKET_PATH_MAX ? null : "the bell socket's path " + bellFile + " is " + bytes + " bytes, "
                + "too long for a Unix socket address (at most " + SOCKET_PATH_MAX + "); task processes make their "
                + "calls to this kernel over gRPC: choose a shorter --shm-dir";
    }

    /**
     * The shared memory of one session of kernel {@code kernelName} in {@code dir}.
     *
     * @throws UncheckedIOException if the directory does not take the files (one sentence)
     */
    public static SharedMemory create(Path dir, String kernelName, int session) {
        return create(dir, kernelName, session, null);
    }

    /**
     * As {@link #create(Path, String, int)}, with a call file that the kernel core's event loop
     * {@code loop} serves (null: no call file, every call over gRPC).
     */
    public static SharedMemory create(Path dir, String kernelName, int session, CallLoop loop) {
        // Made on a thread of its own and waited for without heeding interrupts (join): an interrupt
        // of the caller (a close at exit ending a kernel's start) landing in the files' I/O would
        // close the channel being written (ClosedByInterruptException) and fail the session's files,
        // or silently leave it without a call file. The caller's interrupt is kept for its next wait.
        CompletableFuture<SharedMemory> made = new CompletableFuture<>();
        Thread maker = new Thread(() -> {
            try {
                made.complete(make(dir, kernelName, session, loop));
            } catch (RuntimeException | Error e) {
                made.completeExceptionally(e);
            }
        }, "machxp-shm-make " + kernelName);
        maker.setDaemon(true);
        maker.start();
        try {
            return made.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error r) {
                throw r;
            }
            throw e;
        }
    }

    private static SharedMemory make(Path dir, String kernelName, int session, CallLoop loop) {
        // The session's directory (SessionDirectory): the kernel's name, process, session and
        // instance number for whoever reads the directory, then a random part. The instance number
        // keeps a later kernel of the same name and session in this process (a second embedded
        // cluster) off an earlier one's files and bell, which a task process keeps its connections
        // to by path; the random part keeps other users from making the directory first.
        SessionDirectory own = null;
        boolean made = false;
        try {
            own = SessionDirectory.make(dir, kernelName, ProcessHandle.current().pid(), session,
                    INSTANCES.incrementAndGet());
            SharedMemory memory = new SharedMemory(own, loop);
            made = true;
            return memory;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the shared memory files of kernel " + kernelName + " in " + dir
                    + " (" + e.getMessage() + "); give a writable directory with --shm-dir, or --shm-dir none", e);
        } finally {
            if (!made && own != null) {
                own.close();
            }
        }
    }

    /**
     * {@code /dev/shm} where it is a writable directory (Linux), else null: nothing shared. The
     * property {@code machxp.shm.dir} names another (tests give each run a private one, so that
     * kernels of parallel runs never meet each other's session directories).
     */
    public static Path defaultDir() {
        Path shm = Path.of(System.getProperty("machxp.shm.dir", "/dev/shm"));
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : null;
    }

    public Path kernelFile() {
        return kernelFile;
    }

    /** The session's call file, for calls from task processes without gRPC; null if it has none. */
    public CallReader calls() {
        return calls;
    }

    /**
     * Core thread: the session's call file, served from now on with {@code dispatch} (once; later
     * calls change nothing); null if it has none or it cannot be served (its bell cannot be
     * watched: then it is closed, and task processes make their calls over gRPC).
     */
    public CallReader serveCalls(CallReader.Dispatch dispatch) {
        if (calls == null) {
            return null;
        }
        calls.serve(dispatch);
        return calls.closed() ? null : calls;
    }

    /**
     * The lease's end as the fast path of task processes reads it (System.nanoTime); without a
     * lease ({@link Long#MAX_VALUE}) closed: their every call goes through the kernel
     * ({@link ShmLayout#publishedLeaseEnd}).
     */
    public void leaseUntil(long nanoTime) {
        LONG.setVolatile(kernel, ShmLayout.LEASE_END, ShmLayout.publishedLeaseEnd(nanoTime));
    }

    /**
     * Core only, at each lease renewal: the futex states' kernel-only bits that task processes
     * changed in the tables are put back, so a futex a task process made look cached here stops
     * being taken by the others' fast path (docs/shared-memory.md); how many were put back.
     */
    public int restoreFutexBits() {
        int restored = 0;
        for (SharedFutexTable t : tables) {
            restored += t.restoreKernelBits();
        }
        if (restored > 0) {
            org.slf4j.LoggerFactory.getLogger(SharedMemory.class).warn("a task process changed the kernel's bits "
                    + "of {} futex states in the shared futex tables; put back", restored);
        }
        return restored;
    }

    /**
     * Core only, at each lease renewal (as {@link #restoreFutexBits}): each page file punches the
     * slots due whose count drained since ({@link SharedPages#punchDue}), also in an object that
     * releases no page any more (review F1), and forgets each page's sighting of a count that
     * drained since (SharedPages#renewed, review S3). Without a lease there is no renewal: they
     * are punched at the object's next release or give-back.
     */
    public void punchDue() {
        for (SharedPages p : pageFiles) {
            p.punchDue();
            p.renewed(); // and a page seen counted at its last map whose count drained since: a first sighting again
        }
        ended.entrySet().removeIf(e -> forgotten(e.getKey(), e.getValue()));
    }

    /**
     * Core thread: object {@code objectId} ended (memory_object_terminate, or forgotten with its
     * pager's lost session). Its kept slots are given back (due, and punched unless an access is
     * counted there), and its page file leaves the session's records ({@link #pageFiles}, the
     * count records' {@link #pagesByObject}) once nothing is due there: at once, mostly, else at
     * the lease renewal that punches its last due slot. Before, every object made in the session
     * stayed in them, and each lease renewal went through all of them (review S7 of shm-pool).
     * Its files stay until the session ends (a task process may still map them).
     */
    public void objectTerminated(int objectId) {
        SharedPages p = pagesByObject.get(objectId);
        if (p == null || ended.putIfAbsent(objectId, p) != null) {
            return;
        }
        p.giveBackAll();
        if (forgotten(objectId, p)) {
            ended.remove(objectId);
        }
    }

    /** Page file {@code p} of object {@code objectId}, which ended, leaves the records if nothing is due or kept there. */
    private boolean forgotten(int objectId, SharedPages p) {
        if (p.due() > 0 || p.kept() > 0) {
            return false;
        }
        pageFiles.remove(p);
        pagesByObject.remove(objectId, p);
        p.close(); // nothing more is allocated in it
        return true;
    }

    /** How many page files the session keeps records of (tests: those of objects that ended leave). */
    int pageFileRecords() {
        return pageFiles.size();
    }

    /** A memory object's files: its futex table and its pages' slots, each null if it could not be made. */
    public record ObjectFiles(SharedFutexTable futexes, SharedPages pages) {
        static final ObjectFiles NONE = new ObjectFiles(null, null);
    }

    /**
     * File I/O, not on the core thread (a {@code KernelEnv.fileEffect}): makes and maps the futex
     * table and the page slots of object {@code objectId} ({@code size} bytes) when it is ready.
     * What cannot be made is null (its futexes stay in the kernel's heap, its pages go through
     * gRPC); after the session ended, nothing is made.
     */
    public synchronized ObjectFiles objectFiles(int objectId, int pageSize, long size) {
        if (closed) {
            return ObjectFiles.NONE;
        }
        SharedFutexTable futexes = null;
        Path tableFile = dir.resolve("obj" + objectId);
        try {
            futexes = new SharedFutexTable(tableFile, create(tableFile, ShmLayout.tableFileSize(FUTEXES_PER_OBJECT)),
                    FUTEXES_PER_OBJECT);
            files.add(tableFile);
            tables.add(futexes);
        } catch (IOException e) {
            warnObject(objectId, tableFile, e);
            return ObjectFiles.NONE; // its futexes stay in the heap: task processes use gRPC for them
        }
        int count = (int) (size / pageSize);
        Path pageFile = dir.resolve("obj" + objectId + "-pages");
        long head = ShmLayout.pageData(ShmLayout.pageSlots(count, pageSize), pageSize); // SharedPages: spare slots
        long pageFileSize = ShmLayout.pageFileSize(count, pageSize);
        if (pageFileSize > Integer.MAX_VALUE) {
            // a MappedByteBuffer holds at most 2 GiB - 1: nothing is written, the pages go through gRPC
            org.slf4j.LoggerFactory.getLogger(SharedMemory.class).warn("memory object {} ({} bytes) is too large "
                    + "to map into task processes (2 GiB or more); its pages go through gRPC", objectId, size);
            return new ObjectFiles(futexes, null);
        }
        try {
            // sparse: only the header and ctl words are allocated now, each page's slot when it is first mapped
            ByteBuffer mapped = create(pageFile, pageFileSize, head);
            files.add(pageFile); // made: deleted with the session whatever fails next (review L7)
            SharedPages p = new SharedPages(pageFile, mapped, pageSize, count, objectId, SharedMemory::refused,
                    keptSlots, keptBudget);
            pageFiles.add(p);
            pagesByObject.put(objectId, p);
            return new ObjectFiles(futexes, p);
        } catch (IOException | IllegalArgumentException e) {
            delete(pageFile); // not used: its room goes back at once
            warnObject(objectId, pageFile, e);
            return new ObjectFiles(futexes, null);
        }
    }

    private void warnObject(int objectId, Path file, Exception e) {
        org.slf4j.LoggerFactory.getLogger(SharedMemory.class).warn("cannot make {} for memory object {} ({}); task "
                + "processes reach what it would hold through gRPC (give {} more room, or another --shm-dir)", file,
                objectId, e.toString(), shared);
    }

    /**
     * Task {@code taskId}'s client, process {@code pid} on this host (0: unknown, a process in
     * another PID namespace: its death is then seen through its TaskWatch, and a revocation waits
     * for its slots up to the drain's bound), maps the files. Returns the
     * task's own slot (its page accesses count there), or -1 if none is left.
     *
     * <p>A task is one address space, attached from one process: the process that attached it
     * first may attach it again (the client does after each vm_map, and gets the same slot), but
     * another process ({@code pid} not the first attacher's) gets {@link #OTHER_PROCESS} and makes
     * its calls over gRPC. Every attacher would count and record its page accesses in the task's
     * one slot while the kernel judges the slot's process dead by one pid, so a live second
     * process's counts would be taken back once the first had died (review S1 of shm-pool: a lost
     * write). Two attachers in another PID namespace (pid 0 both) are told apart by their
     * {@code attacher} names (review shmcd F5: before, both were taken for the first, and each
     * process's call channel used the task's slot); the kernel never sees a pid 0 dead, so it takes
     * none of their counts back.
     */
    public int attach(long taskId, long pid) {
        return slots.attach(taskId, pid);
    }

    /** {@link #attach(long, long)}, a pid-0 process told apart by its {@code attacher} name ("" : none sent). */
    public int attach(long taskId, long pid, String attacher) {
        return slots.attach(taskId, pid, attacher);
    }

    /** {@link #attach}'s answer to a process that is not the task's first attacher. */
    public static final int OTHER_PROCESS = ThreadSlots.OTHER_PROCESS;

    /** The pid of the process that attached task {@code taskId} (0: unknown), or -1 if none did. */
    public long attacher(long taskId) {
        return slots.attacher(taskId);
    }

    public boolean attached(long taskId) {
        return slots.attached(taskId);
    }

    /**
     * A slot for a new thread of an attached task; -1 if the task is not attached or none is left
     * to it ({@link ThreadSlots}: slots of ended threads are given again, and a task holds at most
     * {@link ThreadSlots#PER_TASK}).
     */
    public int threadSlot(long taskId, int tid) {
        return slots.threadSlot(taskId, tid);
    }

    /**
     * Before the kernel ends thread {@code tid} of a task (0: every thread, the task ends): stops
     * their fast path and runs {@code then} once no fast call of theirs is under way, or after
     * {@link DrainWatcher#BOUND} (see there); then the slots may be given again
     * ({@link ThreadSlots#ended}). Without slots, {@code then} runs at once.
     */
    public void revoke(long taskId, int tid, Runnable then) {
        ThreadSlots.Revoked r = slots.revoking(taskId, tid);
        List<Integer> all = r.all();
        drains.revoke(all, r.pid(), () -> releaseCounts(all), () -> {
            try {
                then.run();
            } finally {
                slots.ended(r);
            }
        });
    }

    /**
     * Core thread, with {@code --max-pages}: at most {@code room} slots (the bound less the
     * resident pages) stay kept for pages handed away, in every page file of the session; the
     * oldest others become due and are punched unless an access is counted there
     * ({@link KeptSlotBudget}). The page cache asks after each page that comes or leaves.
     */
    public void capKept(int room) {
        keptBudget.cap(room);
    }

    /**
     * The drain watcher's thread, once it knows the process of these slots dead (its pid gone):
     * each page count the process recorded as up ({@link ShmLayout#SLOT_COUNTS}) is taken back,
     * and the record cleared. Without it, a count a process killed inside an access left held its
     * page slot for the rest of the session (never mapped again, never punched).
     */
    private void releaseCounts(List<Integer> slots) {
        for (int slot : slots) {
            for (int i = 0; i < ShmLayout.SLOT_COUNT_RECORDS; i++) {
                int at = ShmLayout.threadSlot(slot) + ShmLayout.SLOT_COUNTS + 8 * i;
                long record = (long) LONG.getAndSet(kernel, at, 0L);
                SharedPages pages = record == 0 ? null : pagesByObject.get((int) (record >>> 32) - 1);
                if (pages != null) {
                    pages.uncount((int) record);
                }
            }
        }
    }

    /**
     * The session ended: files deleted (processes that map them keep their copy), watcher stopped,
     * no file made after this. File I/O: not on the core thread.
     */
    @Override
    public synchronized void close() {
        closed = true;
        leaseUntil(Long.MIN_VALUE);
        try {
            drains.close(); // runs what waits for revocations: whatever it throws, the files go
        } finally {
            try {
                if (calls != null) {
                    calls.close();
                }
            } finally {
                if (calls != null) {
                    delete(calls.file());
                }
                delete(kernelFile);
                files.forEach(SharedMemory::delete);
                pageFiles.forEach(SharedPages::close);
                own.close(); // and whatever else is in the session's directory (a file made partway); its lock released
            }
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a file left in a tmpfs is reclaimed at reboot; nothing else depends on it
        }
    }

    /**
     * The tests' seam, package-private (tests reach it from this package, RefusedSpace in the test
     * sources): from when it is set, the files it accepts are made as on a full directory (their
     * allocation fails with an IOException, "No space left on device"); it may also throw, as a
     * SIGBUS would. A page file's slot is asked for as {@code <page file>@<page index>} when its page
     * is first mapped. Null in production: nothing is refused.
     */
    static volatile java.util.function.Predicate<Path> refuseSpace;

    /**
     * The tests' seam, package-private (KeptSlots in the test sources): how many slots of pages
     * handed away each page file made from now keeps allocated for their return
     * ({@link SharedPages#KEPT_SLOTS} in production; 0: punched at once, as before the pool).
     */
    static volatile int keptSlots = SharedPages.KEPT_SLOTS;

    /** Throws the test's refusal for {@code file}, if any. */
    static void refused(Path file) throws IOException {
        java.util.function.Predicate<Path> refuse = refuseSpace;
        if (refuse != null && refuse.test(file)) {
            throw new RefusedForTest(file + ": No space left on device (a test's refusal)");
        }
    }

    /** The test seam's refusal: no stack trace (nobody reads it; a refusal is expected, and on the core thread). */
    private static final class RefusedForTest extends IOException {
        RefusedForTest(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    private static ByteBuffer create(Path file, long size) throws IOException {
        return create(file, size, size);
    }

    /**
     * Makes {@code file} ({@code size} bytes, owner-only) and maps it, with its first
     * {@code allocated} bytes allocated: zeros are written first, so a directory without room (a
     * full tmpfs) fails here with an IOException rather than with a SIGBUS (an InternalError) at
     * the first touch of a page, in the kernel's core or in a task process. The rest of the file
     * stays sparse (a page file's slots: {@link SharedPages} allocates each before it maps it).
     * Off the core thread (the file thread, or startup).
     */
    private static ByteBuffer create(Path file, long size, long allocated) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        boolean made = false;
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw");
                FileChannel ch = raf.getChannel()) {
            refused(file);
            writeZeros(ch, 0, allocated);
            // ftruncate: a hole past what was written, allocated by nobody until a slot is
            raf.setLength(size);
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            made = true;
            return b;
        } finally {
            if (!made) {
                delete(file);
            }
        }
    }

    /** Writes {@code length} zeros at {@code from} (positional writes: tmpfs allocates the pages). */
    static void writeZeros(FileChannel ch, long from, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(Math.max(length, 1), 64 * 1024));
        for (long at = 0; at < length; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), length - at));
            at += ch.write(zeros, from + at);
        }
    }
}
