package io.machxp.pager.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A {@link FilePageStore}'s futex holders' journal in memory ({@value FilePageStore#HOLDERS}, its
 * text in {@link HoldersFile}): read when the store is opened, changed one entry at a time, written
 * whole when changed.
 * <pre>
 *  written  --put-->    changed  (outside a batch the store writes it at once; in one, at its end)
 *  changed  --write-->  written: a new file, forced, renamed over the old one, the directory forced
 *  changed  --a write fails-->  still changed: the next write tries again
 * </pre>
 * Not thread-safe: the store calls it under its lock.
 */
final class HoldersJournal {
    private final Path dir;
    private final DirectorySync dirSync;
    /** Object + offset -> entry, in order. */
    private final LinkedHashMap<String, PageStore.Holder> holders = new LinkedHashMap<>();
    private boolean changed;

    /**
     * Reads the journal in {@code dir}, if there is one.
     *
     * @throws StoreDamage if it is damaged (or of the old syntax in a store not {@code upgraded})
     */
    HoldersJournal(Path dir, DirectorySync dirSync, boolean upgraded) throws IOException {
        this.dir = dir;
        this.dirSync = dirSync;
        Path journal = dir.resolve(FilePageStore.HOLDERS);
        if (Files.exists(journal)) {
            for (PageStore.Holder h : HoldersFile.parse(CheckedText.read(journal, "the futex holders' journal"), journal,
                    upgraded)) {
                holders.put(h.offset() + "/" + h.object(), h);
            }
        }
    }

    /** The futex's holder is now {@code kernel} (null: none); the journal is to be written. */
    void put(String object, long offset, String kernel) {
        String key = offset + "/" + object;
        if (kernel == null) {
            holders.remove(key);
        } else {
            holders.put(key, new PageStore.Holder(object, offset, kernel));
        }
        changed = true;
    }

    List<PageStore.Holder> list() {
        return List.copyOf(holders.values());
    }

    /** Writes the journal whole (a new file, forced, then renamed over the old one), if changed. */
    void write() {
        if (!changed) {
            return;
        }
        Path journal = dir.resolve(FilePageStore.HOLDERS);
        Path next = dir.resolve(FilePageStore.HOLDERS + ".next");
        String text = HoldersFile.text(holders.values());
        try (FileChannel out = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("page store in " + dir + ": cannot write the futex holders' journal: " + e, e);
        }
        try {
            Files.move(next, journal, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            dirSync.force(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("page store in " + dir + ": cannot replace the futex holders' journal: " + e, e);
        }
        changed = false;
    }
}
