package io.machxp.kernel.shm;

import io.machxp.kernel.core.KernelCore;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The shared memory of a kernel's sessions with its pager: each new core gets its own
 * ({@link SharedMemory}), deleted when its session is retired or the kernel ends. The files of
 * memory objects are made, and a retired session's deleted, on a thread of their own (the file
 * thread), never on the core's: the core asks for them as an effect ({@link #fileEffect}) and goes
 * on with them when they are there, as the pager's core does with its store's writes.
 * Thread-safe.
 */
public final class SharedSessions {
    private final Path dir;
    private final String kernelName;
    private final Queue<SharedMemory> open = new ConcurrentLinkedQueue<>();
    private final AtomicInteger made = new AtomicInteger();
    /** The file thread: one, in submission order; null if the kernel shares nothing. */
    private final ExecutorService files;

    /** The kernel core's event loop, which serves the sessions' call files. */
    private final CallLoop loop;

    /**
     * @param dir where to share, or null: the kernel shares nothing (nor if others could swap its
     *     files there: {@link SharedDirectoryCheck})
     * @param loop the kernel core's event loop, which serves the sessions' call files
     */
    public SharedSessions(Path dir, String kernelName, CallLoop loop) {
        this.dir = usable(dir);
        this.kernelName = kernelName;
        this.loop = loop;
        this.files = dir == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kernel-" + kernelName + "-shm");
            t.setDaemon(true);
            return t;
        });
    }

    /** {@code dir} if others cannot swap a session's files there, else null with one warning (review N1). */
    private static Path usable(Path dir) {
        if (dir == null) {
            return null;
        }
        String refusal = SharedDirectoryCheck.refusal(dir);
        if (refusal != null) {
            org.slf4j.LoggerFactory.getLogger(SharedSessions.class).warn(refusal);
            return null;
        }
        return dir;
    }

    /**
     * The files of a new session (I/O: on the file thread, through {@link #fileEffect}, when the
     * kernel runs; the first session's on the thread that starts the kernel); null if the kernel
     * shares nothing.
     *
     * @throws java.io.UncheckedIOException if the directory does not take the files (one sentence)
     */
    public SharedMemory create() {
        if (dir == null) {
            return null;
        }
        SharedMemory memory = SharedMemory.create(dir, kernelName, made.incrementAndGet(), loop);
        open.add(memory);
        return memory;
    }

    /** A new session's core, before it opens: its futexes and pages shared from now on in {@code memory}. */
    public void share(KernelCore core, SharedMemory memory) {
        if (memory != null) {
            core.shareMemory(memory);
        }
    }

    /**
     * Runs {@code io} on the file thread, then hands its result to {@code done} (which the caller
     * makes run on its core thread). If {@code io} fails in any way (an exception, or an Error such
     * as the InternalError the JVM raises for a SIGBUS on a full tmpfs), {@code done} gets null,
     * which every caller reads as "not shared" (gRPC), with one warning: a file that could not be
     * made never leaves the kernel waiting. After {@link #closeAll} neither runs: the files a
     * session made are deleted with it.
     */
    public <T> void fileEffect(Supplier<T> io, Consumer<T> done) {
        if (files == null) {
            guarded(io, done); // shares nothing: the core never asks, but an effect still runs
            return;
        }
        try {
            files.execute(() -> guarded(io, done));
        } catch (RejectedExecutionException closing) {
            // the kernel is closing: nothing to make
        }
    }

    /**
     * Runs {@code io} and hands what it made to {@code done}: null on any failure, which is logged
     * once with its stack trace, so {@code done} always runs (a renewal always opens its session).
     * Out of memory or stack is not a file's failure: {@code done} gets null first, then it is
     * thrown on.
     */
    private <T> void guarded(Supplier<T> io, Consumer<T> done) {
        T made;
        try {
            made = io.get();
        } catch (RuntimeException | Error e) {
            org.slf4j.LoggerFactory.getLogger(SharedSessions.class).warn("kernel {}: cannot make or map its shared "
                    + "memory files in {} ({}); what they were for goes through gRPC (a full directory? give more "
                    + "room, another --shm-dir, or --shm-dir none)", kernelName, dir, e.toString(), e);
            if (e instanceof VirtualMachineError && !(e instanceof InternalError)) {
                try {
                    done.accept(null);
                } finally {
                    throw e; // out of memory or stack: not a file's failure
                }
            }
            made = null;
        }
        done.accept(made);
    }

    /** The session of {@code core} is over: its files go, on the file thread. */
    public void retire(KernelCore core) {
        retire(core.sharedMemory());
    }

    /** Files made for a session that never opened go, on the file thread. */
    public void retire(SharedMemory m) {
        if (m != null && open.remove(m)) {
            try {
                files.execute(m::close);
            } catch (RejectedExecutionException closing) {
                m.close();
            }
        }
    }

    /** The kernel ends: the file thread finishes what it was given, then every file goes. */
    public void closeAll() {
        if (files != null) {
            files.shutdown();
            try {
                files.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (SharedMemory m; (m = open.poll()) != null; ) {
            m.close();
        }
    }
}
