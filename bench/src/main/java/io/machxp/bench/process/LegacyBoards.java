package io.machxp.bench.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The board directories of {@code bench --api process} from before they were locked
 * ({@code machxp-bench-<number>}, made by {@code Files.createTempDirectory}): a run killed before
 * its {@code finally} left one for good. Such a directory records no owner, but its run mapped
 * its {@code board} for the whole run (and so did the run's worker processes): one that no process
 * maps (no {@code /proc/<pid>/maps} names its board) is dead and removed. Where the maps of a
 * process that may be a JVM cannot be read (another user's), or {@code /proc} is missing, every such
 * directory is kept; a process whose maps are hidden and whose command line names no java is no run.
 *
 * <h2>Overview</h2>
 * <pre>
 *   removeDead: each machxp-bench-&lt;digits&gt; of this user, a real directory (not a link) of
 *               regular files only, whose board nobody maps -> its files deleted, then it
 * </pre>
 */
final class LegacyBoards {
    private static final Pattern NAME = Pattern.compile("machxp-bench-\\d+");

    private LegacyBoards() {}

    /** Removes the dead legacy board directories of {@code owner} in {@code shared}; best effort (what fails is left). */
    static void removeDead(Path shared, UserPrincipal owner) {
        List<Path> candidates = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(shared,
                p -> NAME.matcher(p.getFileName().toString()).matches())) {
            entries.forEach(candidates::add);
        } catch (IOException | RuntimeException cannot) {
            return;
        }
        if (candidates.isEmpty()) {
            return;
        }
        String maps;
        try {
            maps = allMaps();
        } catch (IOException cannotTell) {
            return;
        }
        for (Path dir : candidates) {
            try {
                removeIfDead(dir, maps, owner);
            } catch (IOException | RuntimeException leftAlone) {
                // changed meanwhile, or not ours: left
            }
        }
    }

    private static void removeIfDead(Path dir, String maps, UserPrincipal me) throws IOException {
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory() || !a.owner().equals(me) || maps.contains(dir.resolve("board").toString())) {
            return;
        }
        List<Path> files;
        try (Stream<Path> inside = Files.list(dir)) {
            files = inside.toList();
        }
        for (Path f : files) {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                return; // not as a bench run makes it
            }
        }
        for (Path f : files) {
            Files.deleteIfExists(f); // unlink: never follows
        }
        Files.deleteIfExists(dir);
    }

    /** Whether the process may be a JVM (a bench run or its worker): its command line names java, or cannot be read. */
    private static boolean maybeJava(Path proc) {
        try {
            return new String(Files.readAllBytes(proc.resolve("cmdline")), java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains("java");
        } catch (java.nio.file.NoSuchFileException ended) {
            return false;
        } catch (IOException cannotTell) {
            return true;
        }
    }

    /**
     * Every process's {@code /proc/<pid>/maps}, concatenated; fails if one of a process that may be
     * a JVM cannot be read (another user's, a non-dumpable one): its run could not be told from dead.
     */
    private static String allMaps() throws IOException {
        StringBuilder all = new StringBuilder();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"),
                p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path proc : procs) {
                try {
                    all.append(Files.readString(proc.resolve("maps"), java.nio.charset.StandardCharsets.ISO_8859_1));
                } catch (java.nio.file.NoSuchFileException ended) {
                    // gone meanwhile
                } catch (IOException unreadable) {
                    if (maybeJava(proc)) {
                        throw unreadable; // a JVM (a run?) whose maps are hidden: cannot tell
                    }
                }
            }
        }
        return all.toString();
    }
}
