package io.machxp.kernel.shm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A directory of this process's own in a shared directory ({@code /dev/shm}) for something that is
 * not a kernel session (the board of {@code bench --api process}), made and judged as a session's
 * ({@link SessionDirectory}): named {@code machxp-<user>-<pid>-0.<n>-<random>}, owner-only, its
 * {@code lock} file locked for its life. Closing it deletes it with its files; a process that died
 * without closing it leaves it locked by nobody, and the next one to make such a directory (or the
 * next kernel session in that shared directory) removes it, never one whose process lives.
 *
 * <h2>Overview</h2>
 * <pre>
 *   make:  the shared directory's dead directories removed, this one made and locked
 *   close: its files deleted, the directory removed, the lock released (once)
 * </pre>
 */
public final class OwnedDirectory implements AutoCloseable {
    /** Numbers this process's directories (the {@code <n>} of their names). */
    private static final AtomicInteger MADE = new AtomicInteger();

    private final SessionDirectory dir;

    private OwnedDirectory(SessionDirectory dir) {
        this.dir = dir;
    }

    /** Makes {@code machxp-<user>-<pid>-0.<n>-<random>} in {@code shared}, then removes dead ones there. */
    public static OwnedDirectory make(Path shared, String user) throws IOException {
        return new OwnedDirectory(SessionDirectory.make(shared, user, ProcessHandle.current().pid(), 0,
                MADE.incrementAndGet()));
    }

    public Path path() {
        return dir.path();
    }

    @Override
    public void close() {
        dir.close();
    }
}
