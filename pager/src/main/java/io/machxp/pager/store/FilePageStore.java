package io.machxp.pager.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PageStore} on disk, so that pages survive a pager restart: one file per memory object
 * in one directory, the page at offset N stored at byte N of the file (holes read as zeros).
 * The file name is the object name URL-encoded (UTF-8), which keeps it to safe characters and
 * different names apart, plus {@value #SUFFIX}. Each page's record is beside it, in the file
 * with {@value #SUMS} instead, 16 bytes per page, page N at byte 16N ({@link PageSum}): its
 * version and the CRC32C of its data, itself checked. Every write is forced to the disk before
 * it returns, the data before its record. A page of zeros reads back as null ("never written"),
 * which means the same thing.
 *
 * <h2>Checksums</h2>
 * <pre>
 *  a page read                 its data's CRC32C must be the record's; a page with data and no
 *                              record, or whose record is damaged, is damaged too: the read
 *                              throws {@link StoreDamage} (the pager answers data_error, serves
 *                              every other page); a new write of the page replaces it
 *  a page's version read       the record's (its data may be damaged: a torn write's record is
 *                              the old one, and the kernel that gave the page back still holds
 *                              the newer copy, unanswered, to reclaim); a damaged record: 0, so
 *                              that any copy a kernel gives back replaces the page
 *  the holders' journal        checked line by line, with a last line that counts them
 *                              ({@link HoldersFile}); damage fails the store's opening
 *  the epoch, the lease        one checked line each ({@link CheckedText}); damage fails the start
 * </pre>
 * A crash between a page's data and its record leaves new (or torn) data under the old record:
 * the page reads as damaged until a kernel's reclaim or a newer return replaces it. That write
 * was never acknowledged: the pager answers the returner's keepalive only once the record is on
 * disk, so the kernel keeps its copy until then.
 *
 * <p>The format before checksums (the store's {@value #FORMAT_FILE} file missing, the pages'
 * versions in a {@value #VERSIONS} file, 8 bytes per page, text files without checksums) is
 * read as it is, unchecked: a page with no record whose object has a {@value #VERSIONS} file
 * takes its version from there. New writes are checked. The {@value #FORMAT_FILE} file names
 * this format; a store of a newer one is refused.
 *
 * <p>A file created, and one replaced by a rename (the holders' journal, the epoch, the lease),
 * is made durable by forcing the directory too ({@link DirectorySync}) before the write returns:
 * a power loss would otherwise bring an older journal back after a grant it had to precede
 * (xp-spec 9.1). Thread-safe: the pager writes from its store thread while its page threads read.
 */
public final class FilePageStore implements PageStore {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    public static final String SUFFIX = ".pages";
    /** The pages' versions in the format before checksums, 8 bytes each: read, never written. */
    public static final String VERSIONS = ".versions";
    /** The pages' records: version and checksum ({@link PageSum}). */
    public static final String SUMS = ".sums";
    /** The store's format, one checked line ({@value #FORMAT}); missing in a store of the format before. */
    public static final String FORMAT_FILE = "format";
    static final String FORMAT = "machxp-page-store\t2";
    /** The pager's epoch (see {@link PageStore#nextEpoch}), a decimal number. */
    public static final String EPOCH_FILE = "epoch";

    private final Path dir;
    private final int pageSize;
    private final DirectorySync dirSync;
    private final Map<String, FileChannel> files = new HashMap<>();
    private final Map<String, FileChannel> sumFiles = new HashMap<>();
    /** Old {@value #VERSIONS} files, opened when first read. */
    private final Map<String, FileChannel> versionFiles = new HashMap<>();
    /** Objects with no {@value #VERSIONS} file (the store never makes one). */
    private final java.util.Set<String> noVersionsFile = new java.util.HashSet<>();
    private boolean closed;
    private boolean restarted;
    /** The holders' journal's file ({@link HoldersFile}). */
    public static final String HOLDERS = "holders";
    /** The holders' journal in memory (object + offset -> entry), in order; written whole when changed. */
    private final java.util.LinkedHashMap<String, Holder> holders = new java.util.LinkedHashMap<>();
    private boolean holdersChanged;
    /** In a batch (see {@link #beginBatch}): data files written and not forced yet. */
    private java.util.Set<FileChannel> unforced;
    /** In a batch: record writes held until the data is forced (file, position -> record), in order. */
    private java.util.LinkedHashMap<FileChannel, java.util.LinkedHashMap<Long, PageSum>> heldSums;

    /**
     * Creates {@code dir} if it is missing.
     *
     * @throws IOException with a sentence for a person if {@code dir} cannot be created or written
     */
    public FilePageStore(Path dir, int pageSize) throws IOException {
        this(dir, pageSize, DirectorySync.FSYNC);
    }

    /** As {@link #FilePageStore(Path, int)}, forcing the directory's entries with {@code dirSync}. */
    FilePageStore(Path dir, int pageSize, DirectorySync dirSync) throws IOException {
        this.dirSync = dirSync;
        if (pageSize <= 0) {
            throw new IllegalArgumentException("page size " + pageSize + " must be positive");
        }
        this.dir = dir.toAbsolutePath();
        this.pageSize = pageSize;
        try {
            Files.createDirectories(this.dir);
        } catch (IOException e) {
            throw new IOException("page store directory " + this.dir + " cannot be created: " + e, e);
        }
        try {
            Files.delete(Files.createTempFile(this.dir, ".probe-", ".tmp"));
        } catch (IOException e) {
            throw new IOException("page store directory " + this.dir + " is not writable: " + e, e);
        }
        try {
            checkFormat();
            Path journal = this.dir.resolve(HOLDERS);
            if (Files.exists(journal)) {
                for (Holder h : HoldersFile.parse(text(journal, "the futex holders' journal"), journal)) {
                    holders.put(h.offset() + "/" + h.object(), h);
                }
            }
        } catch (StoreDamage e) {
            throw new IOException("page store directory " + this.dir + ": " + e.getMessage(), e);
        }
    }

    /** Reads the {@value #FORMAT_FILE} file (a store of a newer format is refused), or writes it. */
    private void checkFormat() throws IOException {
        Path file = dir.resolve(FORMAT_FILE);
        if (!Files.exists(file)) {
            writeAtomically(file, CheckedText.line(FORMAT) + "\n");
            return;
        }
        String where = "the store's format file " + file;
        String text = text(file, where);
        CheckedText.requireLineEnd(text, where);
        String format = CheckedText.body(text.isEmpty() ? "" : text.substring(0, text.length() - 1), where);
        if (!format.equals(FORMAT)) {
            throw new StoreDamage(where + " names the format '" + CheckedText.shown(format) + "'; this pager reads '"
                    + CheckedText.shown(FORMAT) + "' and the one before it: a newer pager wrote this store");
        }
    }

    /** The text of one of the store's text files ({@code what}); bytes that are not UTF-8 are damage. */
    private static String text(Path file, String what) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new StoreDamage(what + " (" + file + ") is damaged: it is not UTF-8 text (" + e + ")");
        }
    }

    @Override
    public synchronized void holder(String object, long offset, String kernel) {
        String key = offset + "/" + object;
        if (kernel == null) {
            holders.remove(key);
        } else {
            holders.put(key, new Holder(object, offset, kernel));
        }
        holdersChanged = true;
        if (unforced == null) {
            writeHolders();
        }
    }

    @Override
    public synchronized List<Holder> holders() {
        return List.copyOf(holders.values());
    }

    /** Writes the journal whole (a new file, forced, then renamed over the old one). */
    private void writeHolders() {
        if (!holdersChanged) {
            return;
        }
        Path journal = dir.resolve(HOLDERS);
        Path next = dir.resolve(HOLDERS + ".next");
        String text = HoldersFile.text(holders.values());
        try (FileChannel out = FileChannel.open(next, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("page store in " + dir + ": cannot write the futex holders' journal: " + e, e);
        }
        try {
            Files.move(next, journal, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            dirSync.force(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("page store in " + dir + ": cannot replace the futex holders' journal: " + e, e);
        }
        holdersChanged = false;
    }

    /**
     * One more than the epoch kept in the directory's {@value #EPOCH_FILE} (and never less than the
     * time-based default), written back and forced to the disk before it is returned.
     */
    @Override
    public long nextEpoch() {
        Path file = dir.resolve(EPOCH_FILE);
        try {
            long last = Files.exists(file) ? CheckedText.numberIn(text(file, "the pager's epoch"), file,
                    "the pager's epoch") : 0;
            restarted = last > 0;
            long next = Math.max(last + 1, PageStore.super.nextEpoch());
            writeAtomically(file, CheckedText.numberFile(next));
            return next;
        } catch (IOException | StoreDamage e) {
            throw new UncheckedIOException(new IOException("the pager epoch in " + file + " cannot be read and advanced: "
                    + said(e) + "; fix the file (deleting it makes the next pager take it for a first start, with "
                    + "no grace period for the kernels of the last one)", e));
        }
    }

    /** The lease of the last pager on this store, in nanoseconds, a decimal number. */
    public static final String LEASE_FILE = "lease";

    @Override
    public boolean persistent() {
        return true;
    }

    /** Reads the last pager's lease from {@value #LEASE_FILE} and writes this one's, forced to the disk. */
    @Override
    public long swapLease(long leaseNanos) {
        return replaceLease(leaseNanos, false);
    }

    /** Reads the last pager's lease and writes the longer of it and this one's, in one atomic write. */
    @Override
    public long keepLongerLease(long leaseNanos) {
        return replaceLease(leaseNanos, true);
    }

    private long replaceLease(long leaseNanos, boolean keepLonger) {
        Path file = dir.resolve(LEASE_FILE);
        try {
            long last = Files.exists(file) ? CheckedText.numberIn(text(file, "the last pager's lease"), file,
                    "the last pager's lease in nanoseconds") : 0;
            writeAtomically(file, CheckedText.numberFile(keepLonger ? Math.max(last, leaseNanos) : leaseNanos));
            return last;
        } catch (IOException | StoreDamage e) {
            throw new UncheckedIOException(new IOException("the lease of the last pager in " + file
                    + " cannot be read and replaced: " + said(e) + "; fix the file, or delete it only if no kernel of "
                    + "the last pager can still be running", e));
        }
    }

    /** A failure as a log sentence: damage says itself; an I/O error with its class (NoSuchFileException: a path). */
    private static String said(Exception e) {
        return e instanceof StoreDamage ? e.getMessage() : e.toString();
    }

    private void writeAtomically(Path file, String text) throws IOException {
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0, false);
            ch.force(true);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        dirSync.force(dir);
    }

    /** True once {@link #nextEpoch} found the epoch of an earlier pager in the directory. */
    @Override
    public boolean restarted() {
        return restarted;
    }

    public Path directory() {
        return dir;
    }

    /** The file that holds the pages of {@code object}. */
    public Path fileOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + SUFFIX);
    }

    /** The file that holds the versions of the pages of {@code object} in the format before checksums. */
    public Path versionsOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + VERSIONS);
    }

    /** The file that holds the records (version and checksum) of the pages of {@code object}. */
    public Path sumsOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + SUMS);
    }

    /**
     * @throws StoreDamage if the page's data does not match its record, or its record is damaged
     */
    @Override
    public synchronized byte[] read(String object, long offset) {
        try {
            FileChannel file = channel(object, false);
            PageSum sum = sum(object, offset);
            if (file == null && sum == null) {
                return null;
            }
            ByteBuffer page = ByteBuffer.allocate(pageSize);
            while (file != null && page.hasRemaining() && file.read(page, offset + page.position()) >= 0) {
                // a short read: go on where it stopped; end of file: the rest is zeros
            }
            byte[] data = page.array();
            boolean zero = isZero(data);
            if (sum != null) {
                int crc = PageSum.crcOf(data);
                if (crc != sum.dataCrc()) {
                    throw damaged(object, offset, "its data's checksum is " + PageSum.hex(crc) + ", its record in "
                            + sumsOf(object) + " expects " + PageSum.hex(sum.dataCrc()) + " (version " + sum.version()
                            + ")" + (file != null && file.size() < offset + pageSize ? "; the file ends at byte "
                            + file.size() + ", before the page does (cut short?)" : ""));
                }
            } else if (!zero && !hasVersionsFile(object)) {
                throw damaged(object, offset, "it has data but no record in " + sumsOf(object) + " (that file is cut "
                        + "short, or a crash came between the page's first write and its record)");
            } // else: written in the format before checksums, read unchecked
            return zero ? null : data;
        } catch (IOException e) {
            throw failure("read", object, offset, e);
        }
    }

    /**
     * The version of the page: its record's, even if its data is damaged (a crash between the two
     * writes leaves the old record); a damaged record gives 0, so that any copy a kernel gives
     * back is newer and replaces the page. A page with no record takes the version the format
     * before checksums kept (0 if none).
     */
    @Override
    public synchronized long version(String object, long offset) {
        try {
            PageSum sum;
            try {
                sum = sum(object, offset);
            } catch (StoreDamage e) {
                log.error("page store: {}; its version is taken as 0, so that the copy a kernel gives back replaces "
                        + "it", e.getMessage());
                return 0;
            }
            if (sum != null) {
                return sum.version();
            }
            if (!hasVersionsFile(object)) {
                return 0;
            }
            FileChannel file = channel(versionFiles, versionsOf(object), object, false);
            if (file == null) {
                return 0;
            }
            ByteBuffer version = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long at = offset / pageSize * Long.BYTES;
            while (version.hasRemaining() && file.read(version, at + version.position()) >= 0) {
                // as in read
            }
            return version.getLong(0);
        } catch (IOException e) {
            throw failure("read the version of", object, offset, sumsOf(object), e);
        }
    }

    /** The page's record (held in the open batch, or on disk), or null if it has none. */
    private PageSum sum(String object, long offset) throws IOException {
        FileChannel file = channel(sumFiles, sumsOf(object), object, false);
        if (file == null) {
            return null;
        }
        long at = PageSum.position(offset, pageSize);
        PageSum held = heldSums == null || !heldSums.containsKey(file) ? null : heldSums.get(file).get(at);
        if (held != null) {
            return held; // written in the open batch, on disk at its end
        }
        ByteBuffer record = ByteBuffer.allocate(PageSum.BYTES);
        while (record.hasRemaining() && file.read(record, at + record.position()) >= 0) {
            // as in read
        }
        return PageSum.decode(record, offset, "the record of page 0x" + Long.toHexString(offset) + " of '" + object
                + "' in " + sumsOf(object) + " at byte " + at);
    }

    /** Whether the object has a {@value #VERSIONS} file: pages written before checksums. */
    private boolean hasVersionsFile(String object) {
        if (noVersionsFile.contains(object)) {
            return false;
        }
        if (versionFiles.containsKey(object) || Files.exists(versionsOf(object))) {
            return true;
        }
        noVersionsFile.add(object); // the store never makes one
        return false;
    }

    private StoreDamage damaged(String object, long offset, String what) {
        return new StoreDamage("page 0x" + Long.toHexString(offset) + " of '" + object + "' in " + fileOf(object)
                + " is damaged: " + what + ". It is not served (a kernel asking for it gets data_error) until a "
                + "kernel gives the page back (a reclaim, or a newer data_return) or the files are restored from a "
                + "backup");
    }

    private static boolean isZero(byte[] data) {
        for (byte b : data) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void write(String object, long offset, byte[] page, long version) {
        if (page.length != pageSize) {
            throw new IllegalArgumentException("a page is " + pageSize + " bytes, not " + page.length);
        }
        try {
            FileChannel data = channel(files, fileOf(object), object, true);
            FileChannel sums = channel(sumFiles, sumsOf(object), object, true);
            PageSum sum = new PageSum(version, PageSum.crcOf(page));
            long at = PageSum.position(offset, pageSize);
            if (unforced != null) {
                writeFully(data, ByteBuffer.wrap(page), offset, false);
                unforced.add(data);
                heldSums.computeIfAbsent(sums, f -> new java.util.LinkedHashMap<>()).put(at, sum);
                return;
            }
            writeFully(data, ByteBuffer.wrap(page), offset, true);
            writeFully(sums, sum.encode(offset), at, true);
        } catch (IOException e) {
            throw failure("write", object, offset, e);
        }
    }

    /**
     * Group commit: the store thread writes every page queued for it, then forces each file once,
     * instead of two forces a page (a disk that forces slower than pages come would make the
     * queue, and every keepalive answer behind it, grow without bound).
     */
    @Override
    public synchronized void beginBatch() {
        unforced = new java.util.HashSet<>();
        heldSums = new java.util.LinkedHashMap<>();
    }

    @Override
    public synchronized void endBatch() {
        if (unforced == null) {
            return;
        }
        try {
            for (FileChannel f : unforced) {
                f.force(false);
            }
            for (var file : heldSums.entrySet()) {
                for (var v : file.getValue().entrySet()) {
                    long offset = v.getKey() / PageSum.BYTES * pageSize;
                    writeFully(file.getKey(), v.getValue().encode(offset), v.getKey(), false);
                }
                file.getKey().force(false);
            }
            writeHolders();
        } catch (IOException e) {
            throw new UncheckedIOException("page store in " + dir + ": cannot make a batch of writes durable: " + e, e);
        } finally {
            unforced = null;
            heldSums = null;
        }
    }

    private static void writeFully(FileChannel file, ByteBuffer data, long at, boolean force) throws IOException {
        while (data.hasRemaining()) {
            file.write(data, at + data.position());
        }
        if (force) {
            file.force(false);
        }
    }

    private FileChannel channel(String object, boolean create) throws IOException {
        return channel(files, fileOf(object), object, create);
    }

    private FileChannel channel(Map<String, FileChannel> open, Path path, String object, boolean create)
            throws IOException {
        if (closed) {
            throw new IOException("the page store in " + dir + " is closed");
        }
        FileChannel file = open.get(object);
        if (file != null && file.isOpen()) {
            return file;
        }
        // (re)open: a channel is closed for good when a thread is interrupted during its I/O
        boolean created = create && !Files.exists(path);
        try {
            file = create
                    ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return null; // never written
        }
        if (created) {
            try {
                dirSync.force(dir); // the new file's name, before a page in it counts as written
            } catch (IOException e) {
                file.close();
                throw e;
            }
        }
        open.put(object, file);
        return file;
    }

    private UncheckedIOException failure(String what, String object, long offset, IOException e) {
        return failure(what, object, offset, fileOf(object), e);
    }

    private UncheckedIOException failure(String what, String object, long offset, Path file, IOException e) {
        String message = "page store: cannot " + what + " page 0x" + Long.toHexString(offset) + " of '" + object
                + "' in " + file + ": " + e;
        log.error(message);
        return new UncheckedIOException(message, e);
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Map<String, FileChannel> open : List.of(files, sumFiles, versionFiles)) {
            open.forEach((object, file) -> {
                try {
                    file.close();
                } catch (IOException e) {
                    log.warn("page store: closing the files of {}: {}", object, e.toString());
                }
            });
            open.clear();
        }
    }
}
