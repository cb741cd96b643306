package io.machxp.pager.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The format of a {@link FilePageStore}'s directory, named by its {@value FilePageStore#FORMAT_FILE}
 * file (one checked line). Three states, told when the store is opened:
 * <pre>
 *  no format file, no store file     a new store: {@value #FORMAT} written; checked files only
 *  no format file, files of a store  the format before checksums: {@value #UPGRADED} written, so
 *                                    that its syntax (unchecked text files, the .versions files)
 *                                    is still read after a restart
 *  a format file                     {@value #FORMAT} or {@value #UPGRADED} as it says; any other
 *                                    (a newer pager's store) is refused, as is a damaged one
 * </pre>
 * The state never changes once written: an upgraded store stays one (its old pages are recorded
 * one by one as they are written again).
 */
final class StoreFormat {
    static final String FORMAT = "machxp-page-store\t2";
    /** The format of a store that had none when opened: it may still hold files of the format before. */
    static final String UPGRADED = FORMAT + "\tupgraded from 1";

    private StoreFormat() {}

    /**
     * Reads the store's format file in {@code dir}, or writes it (forced, with the directory
     * entry, through {@code dirSync}).
     *
     * @return whether the store was upgraded from the format before checksums
     * @throws StoreDamage if the format file is damaged or names a format this pager does not read
     */
    static boolean open(Path dir, DirectorySync dirSync) throws IOException {
        Path file = dir.resolve(FilePageStore.FORMAT_FILE);
        if (!Files.exists(file)) {
            boolean upgraded;
            try (var entries = Files.list(dir)) {
                upgraded = entries.anyMatch(e -> isOldStoreFile(e.getFileName().toString()));
            }
            CheckedText.replace(file, CheckedText.line(upgraded ? UPGRADED : FORMAT) + "\n", dirSync);
            return upgraded;
        }
        String where = "the store's format file " + file;
        String text = CheckedText.read(file, where);
        CheckedText.requireLineEnd(text, where);
        String format = CheckedText.body(text.isEmpty() ? "" : text.substring(0, text.length() - 1), where);
        boolean upgraded = format.equals(UPGRADED);
        if (!format.equals(FORMAT) && !upgraded) {
            throw new StoreDamage(where + " names the format '" + CheckedText.shown(format) + "'; this pager reads '"
                    + CheckedText.shown(FORMAT) + "' and the one before it: a newer pager wrote this store");
        }
        return upgraded;
    }

    /**
     * Whether a file of that name belongs to a store of the format before checksums: only
     * those make a directory without a format file an upgraded store; other entries (lost+found,
     * a stray file) are ignored.
     */
    static boolean isOldStoreFile(String name) {
        return name.endsWith(FilePageStore.SUFFIX) || name.endsWith(FilePageStore.VERSIONS)
                || name.equals(FilePageStore.HOLDERS) || name.equals(FilePageStore.EPOCH_FILE)
                || name.equals(FilePageStore.LEASE_FILE);
    }
}
