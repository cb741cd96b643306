package io.machxp.kernel.shm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A kernel session's own directory under the shared directory ({@code /dev/shm}), and the removal
 * of the directories that dead kernels left there.
 *
 * <h2>Overview</h2>
 * <pre>
 *   make:  mkdir .tmp-machxp-&lt;kernel&gt;-&lt;pid&gt;-&lt;session&gt;.&lt;n&gt;-&lt;random&gt; (mode 0700; no removal looks at it)
 *          -> opened (kept open for the session's life), lock file made in it and locked
 *             (exclusive, for the session's life: its liveness)
 *          -> renamed to machxp-... (one rename: under a session's name it is always locked)
 *          -> the directories of dead kernels removed ({@link #removeStale}, best effort)
 *   close: everything in it deleted through the opened directory, the directory removed by name
 *          if the name still is it, the lock released
 * </pre>
 * <b>Liveness is the lock, not a pid</b> (a pid means nothing across PID namespaces): the system
 * drops the lock when its holder dies, whatever its namespace, so a directory is stale when its
 * lock file can be locked. A directory without a lock file is kept. On a filesystem without fcntl
 * locks (ENOLCK) the pid in the name is the fallback, with a warning. In this process, making,
 * closing and removal run under one lock ({@code GUARD}), and a removal never opens the lock
 * file of a directory this process holds ({@code HELD}): closing that descriptor would drop this
 * process's lock (POSIX).
 *
 * <p>A kernel killed while making its directory leaves a {@code .tmp-machxp-...} directory
 * (empty, or with an empty lock file) that no removal touches: it cannot tell one being made by
 * another process from one left (a tmpfs is emptied at reboot).
 *
 * <p><b>Residual (review N3).</b> Java opens a candidate (and its lock file) without
 * {@code O_NONBLOCK}: a FIFO swapped in between the {@code lstat} and the open blocks the removal.
 * Only the kernel's own user (or root) can swap an entry of that user in a sticky directory, and
 * a shared directory others can write without the sticky bit is refused at startup
 * ({@link SharedDirectoryCheck}).
 *
 * <p><b>Removal never follows a link.</b> The shared directory is world-writable: another user can
 * name an entry like a dead kernel's and swap it for a symlink at any moment. Each candidate is
 * opened relative to the shared directory without following links, checked through the open
 * descriptor (a real directory of the kernel's own user, mode {@code rwx------}: another user
 * cannot make one), and emptied relative to that descriptor ({@code unlinkat}); anything not as
 * expected is left alone. Old flat files ({@code machxp-<kernel>-<pid>-<session>.<n>-<file>}, before
 * directories) are unlinked by name when their pid no longer runs here (unlinking never follows).
 */
final class SessionDirectory implements AutoCloseable {
    /** The lock file: held locked by the session's kernel for the session's life. */
    static final String LOCK = "lock";
    /** The longest part of a directory's name taken from the kernel's name (keeps the bell's path short). */
    static final int NAME_PART = 24;
    private static final int RANDOM_CHARS = 10;
    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final FileAttribute<?> OWNER_ONLY_DIRECTORY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<?> OWNER_ONLY_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    /**
     * The directories (file keys) whose lock this process holds: never opened by a removal here,
     * since closing any other descriptor of a locked file drops this process's lock on it (POSIX).
     */
    private static final Set<Object> HELD = ConcurrentHashMap.newKeySet();

    /** The tests' seam: runs with a candidate's name after it was opened and checked, before anything in it is deleted. */
    static volatile java.util.function.Consumer<String> beforeEmptying;

    /**
     * One lock for this process's making, closing and removal of session directories (review N2):
     * a removal here can then never pass the {@link #HELD} check of a directory being made or closed.
     */
    private static final Object GUARD = new Object();
    /** The shared directories this process already warned about (fcntl locks missing there). */
    private static final Set<Path> WARNED_NO_LOCKS = ConcurrentHashMap.newKeySet();
    /** A directory being made: named so that no removal ever looks at it (it does not start with {@code machxp-}). */
    static final String MAKING = ".tmp-";

    /** The tests' seam: runs with the directory being made after its lock file was made, before it is locked. */
    static volatile java.util.function.Consumer<Path> beforeLocking;

    private final Path path;
    private final SecureDirectoryStream<Path> shared;
    private final SecureDirectoryStream<Path> own;
    private final Object key;
    private final UserPrincipal owner;
    private final FileChannel lockChannel;

    private SessionDirectory(Path path, SecureDirectoryStream<Path> shared, SecureDirectoryStream<Path> own, Object key,
            UserPrincipal owner, FileChannel lockChannel) {
        this.path = path;
        this.owner = owner;
        this.shared = shared;
        this.own = own;
        this.key = key;
        this.lockChannel = lockChannel;
    }

    /**
     * Makes a session's directory in {@code shared} under a name no removal looks at, makes and
     * locks its lock file, then renames it to its final name (one {@code rename}: it is never seen
     * unlocked under a session's name), then removes dead kernels' directories (best effort).
     */
    static SessionDirectory make(Path sharedDir, String kernelName, long pid, int session, int instance) throws IOException {
        String safe = kernelName.replaceAll("[^A-Za-z0-9_.-]", "_");
        if (safe.length() > NAME_PART) {
            safe = safe.substring(0, NAME_PART);
        }
        String prefix = "machxp-" + safe + "-" + pid + "-" + session + "." + instance + "-";
        SessionDirectory made;
        synchronized (GUARD) {
            made = makeLocked(sharedDir, prefix);
        }
        removeStaleBestEffort(sharedDir, made.owner);
        return made;
    }

    private static SessionDirectory makeLocked(Path sharedDir, String prefix) throws IOException {
        DirectoryStream<Path> top = Files.newDirectoryStream(sharedDir);
        if (!(top instanceof SecureDirectoryStream<Path> at)) {
            top.close();
            throw new IOException("the system cannot open files relative to " + sharedDir + " (no openat)");
        }
        Path making;
        Path name;
        while (true) {
            String random = random();
            making = Path.of(MAKING + prefix + random);
            name = Path.of(prefix + random);
            if (Files.exists(sharedDir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try {
                Files.createDirectory(sharedDir.resolve(making), OWNER_ONLY_DIRECTORY);
                break;
            } catch (FileAlreadyExistsException taken) {
                // another random part
            }
        }
        SecureDirectoryStream<Path> dir = null;
        Object key = null;
        FileChannel ch = null;
        try {
            dir = at.newDirectoryStream(making, LinkOption.NOFOLLOW_LINKS);
            PosixFileAttributes opened = dir.getFileAttributeView(PosixFileAttributeView.class).readAttributes();
            PosixFileAttributes named = at.getFileAttributeView(making, PosixFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).readAttributes();
            if (!opened.isDirectory() || !opened.fileKey().equals(named.fileKey())
                    || !PosixFilePermissions.toString(opened.permissions()).equals("rwx------")) {
                throw new IOException(sharedDir.resolve(making) + " changed while it was made");
            }
            key = opened.fileKey();
            HELD.add(key);
            var made = dir.newByteChannel(Path.of(LOCK), Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY_FILE);
            if (!(made instanceof FileChannel lockFile)) {
                made.close();
                throw new IOException("the system cannot lock files in " + sharedDir);
            }
            ch = lockFile;
            java.util.function.Consumer<Path> seam = beforeLocking;
            if (seam != null) {
                seam.accept(sharedDir.resolve(making));
            }
            lock(ch, sharedDir);
            at.move(making, at, name); // renameat: atomic in one filesystem
            return new SessionDirectory(sharedDir.resolve(name), at, dir, key, opened.owner(), ch);
        } catch (IOException | RuntimeException e) {
            if (dir != null) {
                empty(dir);
                removeIfSame(at, making, key);
                dir.close();
            } else {
                try {
                    at.deleteDirectory(making);
                } catch (IOException ignored) {
                    // not ours any more, or not empty: left
                }
            }
            if (ch != null) {
                ch.close();
            }
            if (key != null) {
                HELD.remove(key);
            }
            at.close();
            throw e;
        }
    }

    /**
     * Locks a new lock file; where the filesystem has no fcntl locks (ENOLCK), goes on without
     * (review N4): removals then judge this directory's liveness by the pid in its name.
     */
    private static void lock(FileChannel ch, Path sharedDir) throws IOException {
        FileLock taken;
        try {
            taken = ch.tryLock();
        } catch (IOException noLocks) {
            if (WARNED_NO_LOCKS.add(sharedDir)) {
                org.slf4j.LoggerFactory.getLogger(SessionDirectory.class).warn("cannot lock a session's lock file in {} ({}): "
                        + "the liveness of its session directories falls back to the process id in their names, which "
                        + "is wrong across PID namespaces (containers sharing it); use a tmpfs with locks such as /dev/shm",
                        sharedDir, noLocks.toString());
            }
            return;
        }
        if (taken == null) {
            throw new IOException("the new lock file in " + sharedDir + " is locked by another process");
        }
    }

    private static String random() {
        char[] c = new char[RANDOM_CHARS];
        for (int i = 0; i < c.length; i++) {
            c[i] = BASE32[RANDOM.nextInt(BASE32.length)];
        }
        return new String(c);
    }

    Path path() {
        return path;
    }

    /**
     * Deletes the directory with everything in it, then releases its lock. Works on the directory
     * opened when it was made, never by path (review N1): a name swapped for a symlink meanwhile
     * leads nowhere.
     */
    @Override
    public void close() {
        synchronized (GUARD) {
            try {
                empty(own);
                removeIfSame(shared, path.getFileName(), key);
            } finally {
                for (AutoCloseable c : new AutoCloseable[] {own, shared, lockChannel}) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // closing releases the descriptor (and the lock) in any case
                    }
                }
                HELD.remove(key);
            }
        }
    }

    /** Unlinks every entry but subdirectories of an opened directory, relative to it (never follows). */
    private static void empty(SecureDirectoryStream<Path> dir) {
        List<Path> inside = new ArrayList<>();
        try (SecureDirectoryStream<Path> again = dir.newDirectoryStream(Path.of("."), LinkOption.NOFOLLOW_LINKS)) {
            again.forEach(p -> inside.add(p.getFileName()));
        } catch (IOException | RuntimeException cannot) {
            return; // what stays in a tmpfs is reclaimed at reboot
        }
        for (Path f : inside) {
            try {
                PosixFileAttributes a = dir.getFileAttributeView(f, PosixFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS).readAttributes();
                if (!a.isDirectory()) {
                    dir.deleteFile(f);
                }
            } catch (IOException | RuntimeException gone) {
                // gone meanwhile
            }
        }
    }

    /** {@code rmdir} of {@code name} in {@code at} only if it still is the directory of {@code key}. */
    private static void removeIfSame(SecureDirectoryStream<Path> at, Path name, Object key) {
        try {
            Object now = at.getFileAttributeView(name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes().fileKey();
            if (key != null && now.equals(key)) {
                at.deleteDirectory(name);
            }
        } catch (IOException | RuntimeException ignored) {
            // gone, swapped or not empty: left
        }
    }

    /** {@link #removeStale}, never failing: what it cannot do it leaves, with one warning (review N4). */
    static void removeStaleBestEffort(Path sharedDir, UserPrincipal owner) {
        try {
            Exception first = removeStale(sharedDir, owner);
            if (first != null) {
                warnCleanup(sharedDir, first);
            }
        } catch (IOException | RuntimeException e) {
            warnCleanup(sharedDir, e);
        }
    }

    private static void warnCleanup(Path sharedDir, Exception e) {
        org.slf4j.LoggerFactory.getLogger(SessionDirectory.class).warn("could not remove every dead kernel's session "
                + "directory in {} ({}); left as it is", sharedDir, e.toString());
    }

    /**
     * Removes from {@code shared} the session directories of kernels of {@code owner} that no
     * longer run (their lock can be taken), and old flat files of processes that no longer run
     * here. Nothing is followed through a link; where the system offers no secure directory
     * stream, nothing is removed. A directory being made ({@link #MAKING}) is never looked at.
     *
     * @return the first failure with an entry (left as it is), or null
     */
    static Exception removeStale(Path shared, UserPrincipal owner) throws IOException {
        Exception first = null;
        synchronized (GUARD) {
            try (DirectoryStream<Path> top = Files.newDirectoryStream(shared, e -> e.getFileName().toString().startsWith("machxp-"))) {
                if (!(top instanceof SecureDirectoryStream<Path> at)) {
                    return null;
                }
                List<Path> names = new ArrayList<>();
                top.forEach(p -> names.add(p.getFileName()));
                for (Path name : names) {
                    try {
                        removeIfStale(at, name, owner);
                    } catch (java.nio.file.NoSuchFileException | java.nio.file.DirectoryNotEmptyException changed) {
                        // changed meanwhile: left as it is
                    } catch (IOException | RuntimeException leftAlone) {
                        if (first == null) {
                            first = leftAlone;
                        }
                    }
                }
            }
        }
        return first;
    }

    private static void removeIfStale(SecureDirectoryStream<Path> at, Path name, UserPrincipal owner) throws IOException {
        String n = name.toString();
        String[] parts = n.split("-");
        if (parts.length < 4 || !parts[0].equals("machxp")) {
            return;
        }
        PosixFileAttributes entry = at.getFileAttributeView(name, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS).readAttributes();
        if (!entry.owner().equals(owner)) {
            return;
        }
        if (entry.isRegularFile()) {
            if (oldFlatFileOfADeadProcess(n, parts)) {
                at.deleteFile(name); // unlinkat: never follows
            }
            return;
        }
        if (!entry.isDirectory() || HELD.contains(entry.fileKey())) {
            return;
        }
        try (SecureDirectoryStream<Path> dir = at.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
            // what was opened, not what the name says now (fstat of the descriptor)
            PosixFileAttributes opened = dir.getFileAttributeView(PosixFileAttributeView.class).readAttributes();
            if (!opened.isDirectory() || !opened.owner().equals(owner) || HELD.contains(opened.fileKey())
                    || !PosixFilePermissions.toString(opened.permissions()).equals("rwx------")) {
                return;
            }
            try (FileChannel lock = lockFile(dir)) {
                if (lock == null) {
                    return; // no lock file: not a session's directory as this version makes them
                }
                try {
                    if (lock.tryLock() == null) {
                        return; // a live kernel's
                    }
                } catch (OverlappingFileLockException thisProcesssOwn) {
                    return;
                } catch (IOException noLocks) {
                    // no fcntl locks on this filesystem (review N4): the pid hint of its name
                    if (!deadByName(n)) {
                        return;
                    }
                }
                java.util.function.Consumer<String> seam = beforeEmptying;
                if (seam != null) {
                    seam.accept(n);
                }
                List<Path> inside = new ArrayList<>();
                dir.forEach(p -> inside.add(p.getFileName()));
                for (Path f : inside) {
                    PosixFileAttributes a = dir.getFileAttributeView(f, PosixFileAttributeView.class,
                            LinkOption.NOFOLLOW_LINKS).readAttributes();
                    if (!a.isDirectory()) {
                        dir.deleteFile(f); // unlinkat relative to the opened directory: never follows
                    }
                }
            }
            // rmdir by name only if the name still is the directory that was emptied
            Object now = at.getFileAttributeView(name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes().fileKey();
            if (now.equals(opened.fileKey())) {
                at.deleteDirectory(name);
            }
        }
    }

    /** The directory's lock file opened (never through a link), or null if it has none. */
    private static FileChannel lockFile(SecureDirectoryStream<Path> dir) throws IOException {
        Path lock = Path.of(LOCK);
        PosixFileAttributes a;
        try {
            a = dir.getFileAttributeView(lock, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
        } catch (java.nio.file.NoSuchFileException none) {
            return null;
        }
        if (!a.isRegularFile()) {
            return null;
        }
        var ch = dir.newByteChannel(lock, Set.of(StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
        if (ch instanceof FileChannel f) {
            return f;
        }
        ch.close();
        return null;
    }

    /** {@code machxp-<kernel>-<pid>-<session>.<n>-<random>}: its pid runs no process here (a hint only: PID namespaces). */
    private static boolean deadByName(String name) {
        String[] parts = name.split("-");
        try {
            long pid = Long.parseLong(parts[parts.length - 3]);
            return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException notOurs) {
            return false;
        }
    }

    /** {@code machxp-<kernel>-<pid>-<session>.<n>-<file>} (or {@code -obj<id>-pages}) of a process not running here. */
    private static boolean oldFlatFileOfADeadProcess(String name, String[] parts) {
        try {
            long pid = Long.parseLong(parts[parts.length - (name.endsWith("-pages") ? 4 : 3)]);
            return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException notOurs) {
            return false;
        }
    }
}
