package io.machxp.pager.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Makes a directory's entries durable: a file created in it, or renamed into it, is on the disk
 * only once the directory itself is forced (POSIX: fsync of the directory). A file's own force
 * covers its contents, not its name: after a power loss a rename not yet forced in its directory
 * brings the old file back, and a new file may be missing.
 */
@FunctionalInterface
public interface DirectorySync {
    /** Forces {@code dir}'s entries to the disk. */
    void force(Path dir) throws IOException;

    /** fsync on the directory (Linux and the BSDs; open for reading, as a directory cannot be opened to write). */
    DirectorySync FSYNC = dir -> {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    };
}
