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
 * different names apart, plus {@value #SUFFIX}. The pages' versions are beside it, in the file
 * with {@value #VERSIONS} instead, 8 bytes (little-endian) per page, page N at byte 8N (holes:
 * version 0). Every write is forced to the disk before it returns, the data before its version,
 * so a crash between them leaves the new data with the old version: the same return, taken
 * again after a restart, writes the same data. A page of zeros reads back as null ("never
 * written"), which means the same thing. A file created, and one replaced by a rename (the
 * holders' journal, the epoch, the lease), is made durable by forcing the directory too
 * ({@link DirectorySync}) before the write returns: a power loss would otherwise bring an older
 * journal back after a grant it had to precede (xp-spec 9.1). Thread-safe: the pager writes from
 * its store thread while its page threads read.
 */
public final class FilePageStore implements PageStore {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    public static final String SUFFIX = ".pages";
    public static final String VERSIONS = ".versions";
    /** The pager's epoch (see {@link PageStore#nextEpoch}), a decimal number. */
    public static final String EPOCH_FILE = "epoch";

    private final Path dir;
    private final int pageSize;
    private final DirectorySync dirSync;
    private final Map<String, FileChannel> files = new HashMap<>();
    private final Map<String, FileChannel> versionFiles = new HashMap<>();
    private boolean closed;
    private boolean restarted;
    /** The holders' journal's file: one line per futex checked out, "offset TAB kernel TAB object" (URL-encoded). */
    public static final String HOLDERS = "holders";
    /** The holders' journal in memory (object + offset -> entry), in order; written whole when changed. */
    private final java.util.LinkedHashMap<String, Holder> holders = new java.util.LinkedHashMap<>();
    private boolean holdersChanged;
    /** In a batch (see {@link #beginBatch}): data files written and not forced yet. */
    private java.util.Set<FileChannel> unforced;
    /** In a batch: version writes held until the data is forced (file, position -> version), in order. */
    private java.util.LinkedHashMap<FileChannel, java.util.LinkedHashMap<Long, Long>> heldVersions;

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
        Path journal = this.dir.resolve(HOLDERS);
        if (Files.exists(journal)) {
            for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t", 3);
                if (f.length == 3) {
                    String object = java.net.URLDecoder.decode(f[2], StandardCharsets.UTF_8);
                    String kernel = java.net.URLDecoder.decode(f[1], StandardCharsets.UTF_8);
                    holders.put(f[0] + "/" + object, new Holder(object, Long.parseLong(f[0]), kernel));
                }
            }
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
        StringBuilder text = new StringBuilder();
        for (Holder h : holders.values()) {
            text.append(h.offset()).append('\t').append(URLEncoder.encode(h.kernel(), StandardCharsets.UTF_8))
                    .append('\t').append(URLEncoder.encode(h.object(), StandardCharsets.UTF_8)).append('\n');
        }
        try (FileChannel out = FileChannel.open(next, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
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
            long last = Files.exists(file) ? Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim()) : 0;
            restarted = last > 0;
            long next = Math.max(last + 1, PageStore.super.nextEpoch());
            writeAtomically(file, next + "\n");
            return next;
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException(new IOException("the pager epoch in " + file + " cannot be read and advanced: "
                    + e + "; fix the file (deleting it makes the next pager take it for a first start, with "
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
            long last = Files.exists(file) ? Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim()) : 0;
            writeAtomically(file, (keepLonger ? Math.max(last, leaseNanos) : leaseNanos) + "\n");
            return last;
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException(new IOException("the lease of the last pager in " + file
                    + " cannot be read and replaced: " + e + "; fix the file, or delete it only if no kernel of "
                    + "the last pager can still be running", e));
        }
    }

    private void writeAtomically(Path file, String text) throws IOException {
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
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

    /** The file that holds the versions of the pages of {@code object}. */
    public Path versionsOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + VERSIONS);
    }

    @Override
    public synchronized byte[] read(String object, long offset) {
        try {
            FileChannel file = channel(object, false);
            if (file == null) {
                return null;
            }
            ByteBuffer page = ByteBuffer.allocate(pageSize);
            while (page.hasRemaining() && file.read(page, offset + page.position()) >= 0) {
                // a short read: go on where it stopped; end of file: the rest is zeros
            }
            byte[] data = page.array();
            for (byte b : data) {
                if (b != 0) {
                    return data;
                }
            }
            return null;
        } catch (IOException e) {
            throw failure("read", object, offset, e);
        }
    }

    @Override
    public synchronized long version(String object, long offset) {
        try {
            FileChannel file = channel(versionFiles, versionsOf(object), object, false);
            if (file == null) {
                return 0;
            }
            Long held = heldVersions == null || !heldVersions.containsKey(file) ? null
                    : heldVersions.get(file).get(offset / pageSize * Long.BYTES);
            if (held != null) {
                return held; // written in the open batch, on disk at its end
            }
            ByteBuffer version = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long at = offset / pageSize * Long.BYTES;
            while (version.hasRemaining() && file.read(version, at + version.position()) >= 0) {
                // as in read
            }
            return version.getLong(0);
        } catch (IOException e) {
            throw failure("read the version of", object, offset, versionsOf(object), e);
        }
    }

    @Override
    public synchronized void write(String object, long offset, byte[] page, long version) {
        if (page.length != pageSize) {
            throw new IllegalArgumentException("a page is " + pageSize + " bytes, not " + page.length);
        }
        try {
            FileChannel data = channel(files, fileOf(object), object, true);
            FileChannel versions = channel(versionFiles, versionsOf(object), object, true);
            long at = offset / pageSize * Long.BYTES;
            if (unforced != null) {
                writeFully(data, ByteBuffer.wrap(page), offset, false);
                unforced.add(data);
                heldVersions.computeIfAbsent(versions, f -> new java.util.LinkedHashMap<>()).put(at, version);
                return;
            }
            writeFully(data, ByteBuffer.wrap(page), offset, true);
            writeFully(versions, versionBytes(version), at, true);
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
        heldVersions = new java.util.LinkedHashMap<>();
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
            for (var file : heldVersions.entrySet()) {
                for (var v : file.getValue().entrySet()) {
                    writeFully(file.getKey(), versionBytes(v.getValue()), v.getKey(), false);
                }
                file.getKey().force(false);
            }
            writeHolders();
        } catch (IOException e) {
            throw new UncheckedIOException("page store in " + dir + ": cannot make a batch of writes durable: " + e, e);
        } finally {
            unforced = null;
            heldVersions = null;
        }
    }

    private static ByteBuffer versionBytes(long version) {
        return ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, version);
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
        for (Map<String, FileChannel> open : List.of(files, versionFiles)) {
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
