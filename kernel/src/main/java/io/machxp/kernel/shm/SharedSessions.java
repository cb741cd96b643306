package io.machxp.kernel.shm;

import io.machxp.kernel.core.KernelCore;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The shared memory of a kernel's sessions with its pager: each new core gets its own
 * ({@link SharedMemory}), deleted when its session is retired or the kernel ends. Thread-safe.
 */
public final class SharedSessions {
    private final Path dir;
    private final String kernelName;
    private final Queue<SharedMemory> open = new ConcurrentLinkedQueue<>();
    private final AtomicInteger made = new AtomicInteger();

    /** @param dir where to share, or null: the kernel shares nothing */
    public SharedSessions(Path dir, String kernelName) {
        this.dir = dir;
        this.kernelName = kernelName;
    }

    /** A new session's core, before it opens: its futexes and pages shared from now on. */
    public void share(KernelCore core) {
        if (dir != null) {
            SharedMemory memory = SharedMemory.create(dir, kernelName, made.incrementAndGet());
            open.add(memory);
            core.shareMemory(memory);
        }
    }

    /** The session of {@code core} is over: its files go. */
    public void retire(KernelCore core) {
        SharedMemory m = core.sharedMemory();
        if (m != null && open.remove(m)) {
            m.close();
        }
    }

    /** The kernel ends: every file goes. */
    public void closeAll() {
        for (SharedMemory m; (m = open.poll()) != null; ) {
            m.close();
        }
    }
}
