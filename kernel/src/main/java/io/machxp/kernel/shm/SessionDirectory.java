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
 *   make:  mkdir machxp-&lt;kernel&gt;-&lt;pid&gt;-&lt;session&gt;.&lt;n&gt;-&lt;random&gt; (mode 0700)
 *          -> lock file made in it and locked (exclusive, for the session's life: its liveness)
 *          -> the directories of dead kernels removed ({@link #removeStale})
 *   close: everything in it deleted, the directory removed, the lock released
 * </pre>
 * <b>Liveness is the lock, not a pid</b> (a pid means nothing across PID namespaces): the system
 * drops the lock when its holder dies, whatever its namespace, so a directory is stale when its
 * lock file can be locked. A directory without a lock file is kept (a kernel making it right now).
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

    private final Path path;
    private final Object key;
    private final FileChannel lockChannel;

    private SessionDirectory(Path path, Object key, FileChannel lockChannel) {
        this.path = path;
        this.key = key;
        this.lockChannel = lockChannel;
    }

    /** Makes a session's directory in {@code shared}, locks it, then removes dead kernels' directories. */
    static SessionDirectory make(Path shared, String kernelName, long pid, int session, int instance) throws IOException {
        String safe = kernelName.replaceAll("[^A-Za-z0-9_.-]", "_");
        if (safe.length() > NAME_PART) {
            safe = safe.substring(0, NAME_PART);
        }
        String prefix = "machxp-" + safe + "-" + pid + "-" + session + "." + instance + "-";
        Path own;
        while (true) {
            try {
                own = Files.createDirectory(shared.resolve(prefix + random()), OWNER_ONLY_DIRECTORY);
                break;
            } catch (FileAlreadyExistsException taken) {
                // another random part
            }
        }
        Object key = null;
        FileChannel ch = null;
        try {
            key = Files.readAttributes(own, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            HELD.add(key);
            ch = FileChannel.open(own.resolve(LOCK), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), OWNER_ONLY_FILE);
            ch.lock();
            SessionDirectory made = new SessionDirectory(own, key, ch);
            removeStale(shared, Files.getOwner(own, LinkOption.NOFOLLOW_LINKS));
            return made;
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            deleteTree(own);
            if (key != null) {
                HELD.remove(key);
            }
            throw e;
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

    /** Deletes the directory with everything in it, then releases its lock. */
    @Override
    public void close() {
        try {
            deleteTree(path);
        } finally {
            try {
                lockChannel.close();
            } catch (IOException ignored) {
                // closing drops the lock in any case
            }
            HELD.remove(key);
        }
    }

    /** Deletes this process's own session directory (nobody else can enter it) with the files in it. */
    private static void deleteTree(Path own) {
        try (var inside = Files.newDirectoryStream(own)) {
            for (Path f : inside) {
                Files.deleteIfExists(f);
            }
        } catch (IOException | RuntimeException cannot) {
            // gone meanwhile; what stays in a tmpfs is reclaimed at reboot
        }
        try {
            Files.deleteIfExists(own);
        } catch (IOException ignored) {
            // not empty or gone
        }
    }

    /**
     * Removes from {@code shared} the session directories of kernels of {@code owner} that no
     * longer run (their lock can be taken), and old flat files of processes that no longer run
     * here. Nothing is followed through a link; where the system offers no secure directory
     * stream, nothing is removed.
     */
    static void removeStale(Path shared, UserPrincipal owner) throws IOException {
        try (DirectoryStream<Path> top = Files.newDirectoryStream(shared)) {
            if (!(top instanceof SecureDirectoryStream<Path> at)) {
                return;
            }
            List<Path> names = new ArrayList<>();
            top.forEach(p -> names.add(p.getFileName()));
            for (Path name : names) {
                try {
                    removeIfStale(at, name, owner);
                } catch (IOException | RuntimeException leftAlone) {
                    // changed meanwhile, or not ours: left as it is
                }
            }
        }
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
                FileLock taken;
                try {
                    taken = lock == null ? null : lock.tryLock();
                } catch (OverlappingFileLockException thisProcesssOwn) {
                    return;
                }
                if (taken == null) {
                    return; // a live kernel's (or one being made: no lock file yet)
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
