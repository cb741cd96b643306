package io.machxp.pager.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PageStore} on disk, so that pages survive a pager restart: one file per memory object
 * in one directory, the page at offset N stored at byte N of the file (holes read as zeros).
 * The file name is the object name URL-encoded (UTF-8), which keeps it to safe characters and
 * different names apart, plus {@value #SUFFIX}. Each page's record is beside it, in the file
 * with {@value #SUMS} instead, two slots of 16 bytes per page, page N at byte 32N
 * ({@link PageSum}): a version and the CRC32C of its data, each itself checked. Every write is
 * forced to the disk before it returns, record first: the new record into the slot that does
 * not describe the data on disk, forced, then the data, forced; so a crash of the process
 * anywhere in a write leaves the page at its old version or its new one. A page of zeros reads
 * back as null ("never written"), which means the same thing.
 *
 * <h2>Checksums</h2>
 * <pre>
 *  a page read, its version    judged against its records by the object's {@link PageRecords}
 *                              (which slot matches, a damaged page's version, the high-water
 *                              mark {@value #MARK}); a damaged page's read throws
 *                              {@link StoreDamage} (the pager answers data_error, serves every
 *                              other page; {@link DamageReports} says how often it is logged);
 *                              a new write of the page replaces it
 *  the holders' journal        checked line by line, with a last line that counts them
 *                              ({@link HoldersFile}; in memory {@link HoldersJournal}); damage
 *                              fails the store's opening
 *  the epoch, the lease        one checked line each ({@link EpochAndLease}); damage fails the start
 *  the format file             ({@link StoreFormat}) new, upgraded, or refused when opened
 * </pre>
 * A batch ({@link StoreBatch}) forces each records file once, then each data file once.
 *
 * <p>Objects open: the store holds the files and page records of at most
 * {@value OpenObjects#DEFAULT_LIMIT} objects open ({@link OpenObjects}), two files each (three
 * with an old {@value #VERSIONS} file), and closes the least recently used beyond that, dropping
 * its records (a cache, built again from its files and checked as before when it is used again);
 * an object with a write in the open batch stays open until the batch's end, and a batch that
 * would hold more objects open is ended early (its writes forced as at its end) and another
 * begun, the whole batch's end still the point its writes are durable at. A pager serving many
 * objects over its life, or a burst of them in one batch, thus runs out of neither file
 * descriptors nor memory.
 *
 * <p>The format before checksums (the store's {@value #FORMAT_FILE} file missing, the pages'
 * versions in a {@value #VERSIONS} file, 8 bytes per page, text files without checksums) is
 * read as it is, unchecked, in a store whose {@value #FORMAT_FILE} file says it was upgraded
 * ({@value StoreFormat#UPGRADED}, written when a directory holding a file of that format, a {@value #SUFFIX}
 * or {@value #VERSIONS} file, the holders' journal, the epoch or the lease, but no format file is
 * opened; other entries, such as lost+found, are ignored): a
 * page with no record whose object has a {@value #VERSIONS} file takes its version from there,
 * and its first checked write records the old data in one slot with the new record in the
 * other. A store created in this format accepts checked files only. A store of a newer format
 * is refused.
 *
 * <p>A file created, and one replaced by a rename (the holders' journal, the epoch, the lease),
 * is made durable by forcing the directory too ({@link DirectorySync}) before the write returns:
 * a power loss would otherwise bring an older journal back after a grant it had to precede
 * (xp-spec 9.1). Thread-safe: the pager writes from its store thread while its page threads read;
 * every call holds the store's lock while it uses a file, so no object's files are closed under a
 * read or a write.
 */
public final class FilePageStore implements PageStore {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    public static final String SUFFIX = ".pages";
    /** The pages' versions in the format before checksums, 8 bytes each: read, never written. */
    public static final String VERSIONS = ".versions";
    /** The pages' records: version and checksum ({@link PageSum}). */
    public static final String SUMS = ".sums";
    /**
     * Each object's high-water mark, one checked line: a version no page of the object has passed,
     * written ahead ({@value HighWaterMark#MARK_STEP} above the version that passed the last one) and forced
     * before a record of a higher version is written. A damaged page whose records cannot say
     * where it stood takes one above it.
     */
    public static final String MARK = ".mark";
    /** The store's format, one checked line ({@link StoreFormat}); missing in a store of the format before. */
    public static final String FORMAT_FILE = "format";
    /** The pager's epoch (see {@link PageStore#nextEpoch}), a decimal number. */
    public static final String EPOCH_FILE = "epoch";

    private final Path dir;
    private final int pageSize;
    private final DirectorySync dirSync;
    /**
     * The objects held open: each one's files ({@value #SUFFIX}, {@value #SUMS}, old {@value #VERSIONS})
     * and page records ({@link PageRecords}), the least recently used closed beyond a bound
     * ({@link OpenObjects}); an object with a write in the open batch stays open.
     */
    private final OpenObjects open;
    private final PageRecords.Channels channels = new PageRecords.Channels() {
        @Override
        public FileChannel open(String object, String suffix, boolean create) throws IOException {
            return channel(object, suffix, create);
        }

        @Override
        public void force(FileChannel file) throws IOException {
            FilePageStore.this.force(file);
        }
    };
    /** How often damage is logged ({@link DamageReports}); a test sets its clock. */
    final DamageReports reports = new DamageReports();
    /** Whether the store had no format file when first opened by this format (see the class comment). */
    private boolean upgraded;
    private boolean closed;
    /**
     * Files created whose directory entry is not known durable: the directory's force after the
     * creation failed. A write to the file forces the directory again before it returns (a read
     * does not need it), until a force succeeds.
     */
    private final java.util.Set<Path> namesNotDurable = new java.util.HashSet<>();
    /** The epoch and lease files ({@link EpochAndLease}). */
    private final EpochAndLease epochAndLease;
    /** The holders' journal's file ({@link HoldersFile}). */
    public static final String HOLDERS = "holders";
    /** The holders' journal in memory, written whole when changed ({@link HoldersJournal}). */
    private final HoldersJournal holders;
    /** The open batch (see {@link #beginBatch}), or null. */
    private StoreBatch batch;
    /**
     * Why a part of the open batch, ended early to bound the objects it holds open
     * ({@link #endBatchEarly}), could not be made durable; thrown by {@link #endBatch}, so that no
     * write of the batch is taken as durable. Null if none failed.
     */
    private IOException batchFailure;
    /** What a batch's end tells of each page. */
    private final StoreBatch.Outcome outcome = new StoreBatch.Outcome() {
        @Override
        public void written(String object, long offset, int slot, long version) {
            FilePageStore.this.written(object, offset, slot, version);
        }

        @Override
        public void unsettled(String object, long offset) {
            recordsOf(object).unsettle(offset);
        }
    };

    /** The points of a write's sequence, where a test stops it as a crash would ({@link #steps}). */
    enum Step {
        RECORD_WRITTEN, RECORD_FORCED, RECORDS_FORCED, DATA_WRITTEN, DATA_FORCED,
        /** A file of pages or records forced (told with the file's name as the object). */
        FILE_FORCED
    }

    /** Told each step of a write as it is done; a test's crash throws. */
    interface Steps {
        void at(Step step, String object, long offset) throws IOException;
    }

    Steps steps = (step, object, offset) -> {};

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
        this(dir, pageSize, dirSync, OpenObjects.DEFAULT_LIMIT);
    }

    /** As {@link #FilePageStore(Path, int, DirectorySync)}, holding at most {@code openObjects} objects open. */
    FilePageStore(Path dir, int pageSize, DirectorySync dirSync, int openObjects) throws IOException {
        this.dirSync = dirSync;
        this.open = new OpenObjects(openObjects, object -> batch != null && batch.holds(object));
        if (pageSize <= 0) {
            throw new IllegalArgumentException("page size " + pageSize + " must be positive");
        }
        this.dir = dir.toAbsolutePath();
        this.pageSize = pageSize;
        try {
            Files.createDirectories(this.dir);
        } catch (IOException e) {
            throw new IOException("page store directory " + this.dir + " cannot be created: " + (e instanceof
                    java.nio.file.FileSystemException f && f.getReason() == null ? f.getFile() + (e instanceof
                    java.nio.file.NoSuchFileException ? ": no such file or directory, or one that cannot hold it"
                    : e instanceof java.nio.file.AccessDeniedException ? ": permission denied" : "")
                    : e.getMessage()) + "; give --store a directory you can write", e);
        }
        try {
            Files.delete(Files.createTempFile(this.dir, ".probe-", ".tmp"));
        } catch (IOException e) {
            throw new IOException("page store directory " + this.dir + " is not writable: " + e, e);
        }
        try {
            upgraded = StoreFormat.open(this.dir, dirSync);
            holders = new HoldersJournal(this.dir, dirSync, upgraded);
            epochAndLease = new EpochAndLease(this.dir, dirSync, upgraded);
        } catch (StoreDamage e) {
            throw new IOException("page store directory " + this.dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void holder(String object, long offset, String kernel) {
        holders.put(object, offset, kernel);
        if (batch == null) {
            holders.write();
        }
    }

    @Override
    public synchronized List<Holder> holders() {
        return holders.list();
    }

    /**
     * One more than the epoch kept in the directory's {@value #EPOCH_FILE} (and never less than the
     * time-based default), written back and forced to the disk before it is returned.
     */
    @Override
    public long nextEpoch() {
        return epochAndLease.nextEpoch(() -> PageStore.super.nextEpoch());
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
        return epochAndLease.replaceLease(leaseNanos, keepLonger);
    }

    /** True once {@link #nextEpoch} found the epoch of an earlier pager in the directory. */
    @Override
    public boolean restarted() {
        return epochAndLease.restarted();
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

    /** The file that holds the high-water mark of the versions of the pages of {@code object}. */
    public Path markOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + MARK);
    }

    /** The file that holds the records (version and checksum) of the pages of {@code object}. */
    public Path sumsOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + SUMS);
    }

    /**
     * @throws StoreDamage if the page's data matches neither of its records (nor, for zeros, an
     *     empty slot; nor, in an upgraded store, the format before checksums)
     */
    @Override
    public synchronized byte[] read(String object, long offset) {
        byte[] pending = pendingPage(object, offset);
        if (pending != null) {
            return PageRecords.isZero(pending) ? null : pending; // written in the open batch, on disk at its end
        }
        PageRecords.Check c = recordsOf(object).check(offset);
        if (c.damage != null) {
            throw damage(object, offset, c.damage);
        }
        return c.data;
    }

    /**
     * The version of the page: that of the record its data matches. A damaged page (its data
     * matches neither record) takes the version its records say it stood at before a write that
     * may have been torn (both intact: the lower; one and an empty slot: one below it), so that
     * the copy a kernel still holds of that write replaces it and an older one does not; if a
     * record is damaged or none is left, one above the object's high-water mark (logged), so that
     * no copy up to one a kernel may have seen acknowledged replaces it ({@link #damagedVersion}).
     */
    @Override
    public synchronized long version(String object, long offset) {
        Long pending = pendingVersion(object, offset);
        if (pending != null) {
            return pending;
        }
        PageRecords.Valid v = recordsOf(object).valid(offset);
        if (v != null) {
            return v.version();
        }
        PageRecords.Check c = recordsOf(object).check(offset);
        if (c.damage == null) {
            return c.version;
        }
        StoreDamage d = damage(object, offset, c.damage);
        if (d.toBeLogged()) {
            log.error("page store: {}; its version is taken as {} ({})", d.getMessage(), c.version, c.versionWhy);
        }
        return c.version;
    }

    /** The page's data and version from one look at its files (or the open batch), under one lock. */
    @Override
    public synchronized Copy copy(String object, long offset) {
        byte[] pending = pendingPage(object, offset);
        if (pending != null) {
            return new Copy(PageRecords.isZero(pending) ? null : pending, pendingVersion(object, offset));
        }
        PageRecords.Check c = recordsOf(object).check(offset);
        if (c.damage != null) {
            throw damage(object, offset, c.damage);
        }
        return new Copy(c.data, c.version);
    }

    private StoreDamage damage(String object, long offset, String what) {
        return reports.damage(object, offset, fileOf(object), what);
    }

    /**
     * Record first: the new record goes into the page's spare slot (the one that does not describe
     * the data on disk) and is forced, then the data is written and forced. A crash anywhere in
     * between leaves data that one of the two slots describes: the old version or the new one.
     */
    @Override
    public synchronized void write(String object, long offset, byte[] page, long version) {
        if (page.length != pageSize) {
            throw new IllegalArgumentException("a page is " + pageSize + " bytes, not " + page.length);
        }
        if (batch != null && !batch.holds(object) && batch.objects() >= open.batchObjects()) {
            endBatchEarly();
        }
        boolean dataBegun = false;
        try {
            PageRecords judge = recordsOf(object);
            judge.mark.pass(version);
            FileChannel data = channel(object, SUFFIX, true);
            FileChannel sums = channel(object, SUMS, true);
            int kept = judge.keptSlot(offset);
            int spare = 1 - kept;
            PageRecords.Valid before = judge.valid(offset);
            if (before != null && before.unrecordedCrc() != null) {
                // data of the format before checksums: its record first, forced with the new one,
                // so that a crash before the new data leaves the old data recorded
                writeFully(sums, new PageSum(before.version(), before.unrecordedCrc()).encode(offset, kept),
                        PageSum.position(offset, pageSize, kept));
            }
            PageSum sum = new PageSum(version, PageSum.crcOf(page));
            writeFully(sums, sum.encode(offset, spare), PageSum.position(offset, pageSize, spare));
            steps.at(Step.RECORD_WRITTEN, object, offset);
            if (batch != null) {
                batch.add(object, offset, page, version, spare, sums, data);
                return;
            }
            force(sums);
            steps.at(Step.RECORD_FORCED, object, offset);
            dataBegun = true;
            writeFully(data, ByteBuffer.wrap(page), offset);
            steps.at(Step.DATA_WRITTEN, object, offset);
            force(data);
            steps.at(Step.DATA_FORCED, object, offset);
            written(object, offset, spare, version);
        } catch (IOException e) {
            if (dataBegun) {
                recordsOf(object).unsettle(offset); // which slot describes the data on disk is known again when read
            }
            throw failure("write", object, offset, fileOf(object), e);
        }
    }

    /** The page's data and slot describing it are on disk. */
    private void written(String object, long offset, int slot, long version) {
        recordsOf(object).written(offset, slot, version);
        reports.forget(object, offset);
    }

    private byte[] pendingPage(String object, long offset) {
        StoreBatch.Pending p = batch == null ? null : batch.get(object, offset);
        return p == null ? null : p.page();
    }

    private Long pendingVersion(String object, long offset) {
        StoreBatch.Pending p = batch == null ? null : batch.get(object, offset);
        return p == null ? null : p.version();
    }

    /** Group commit ({@link StoreBatch}): records forced once a file, then data written and forced once a file. */
    @Override
    public synchronized void beginBatch() {
        batch = new StoreBatch();
    }

    /**
     * Makes the batch's writes durable. If a part of it ended early failed ({@link #endBatchEarly}),
     * throws that failure, after ending the rest, and leaves the holders' journal unwritten: none
     * of the batch's writes is acknowledged as durable.
     */
    @Override
    public synchronized void endBatch() {
        if (batch == null) {
            return;
        }
        IOException failed = batchFailure;
        try {
            batch.end(channels, steps, outcome);
            if (failed != null) {
                throw failed;
            }
            holders.write();
        } catch (IOException e) {
            if (failed != null && failed != e) {
                e.addSuppressed(failed);
            }
            throw new UncheckedIOException("page store in " + dir + ": cannot make a batch of writes durable: " + e, e);
        } finally {
            batch = null;
            batchFailure = null;
            open.trim(); // objects opened beyond the bound while the batch held the others
        }
    }

    /**
     * Ends the open batch early and begins another, as its end does (records forced, then data
     * written and forced), so that a write of one more object does not hold more than
     * {@link OpenObjects#batchObjects} open: the pager puts every write queued into one batch, and
     * a burst of many objects would otherwise hold two files each until the batch's end. The
     * holders' journal waits for the batch's end. A failure is kept for {@link #endBatch} to
     * throw: the writes of the part ended are acknowledged only after the whole batch's end.
     */
    private void endBatchEarly() {
        try {
            batch.end(channels, steps, outcome);
        } catch (IOException e) {
            log.error("page store in {}: cannot make a part of a batch of writes durable: {}", dir, e.toString());
            if (batchFailure == null) {
                batchFailure = e;
            } else {
                batchFailure.addSuppressed(e);
            }
        } finally {
            batch = new StoreBatch();
        }
    }

    /** Forces a file of pages or records to the disk (its data, not its times). */
    private void force(FileChannel file) throws IOException {
        file.force(false);
        steps.at(Step.FILE_FORCED, open.nameOf(file), -1);
    }

    static void writeFully(FileChannel file, ByteBuffer data, long at) throws IOException {
        while (data.hasRemaining()) {
            file.write(data, at + data.position());
        }
    }

    /** The object's page records, built when it is opened ({@link OpenObjects}). */
    private PageRecords recordsOf(String object) {
        OpenObjects.Entry e = open.use(object);
        if (e.records == null) {
            e.records = new PageRecords(object, dir, pageSize, upgraded, channels, reports, dirSync,
                    open.takeUnsettled(object));
        }
        return e.records;
    }

    /** The files open, of every object held open (a test's count). */
    synchronized int openFiles() {
        return open.openFiles();
    }

    /** The objects held open (a test's count). */
    synchronized int openObjects() {
        return open.openObjects();
    }

    /**
     * The objects whose files were closed so far as the least recently used beyond the bound
     * ({@value OpenObjects#DEFAULT_LIMIT}), each to be opened again, its records read again, when
     * used: a count growing fast says the objects in use are more than the bound. Read without
     * the store's lock (the pager's meter {@code machxp.store.objects.closed}).
     */
    public long objectsClosed() {
        return open.closes();
    }

    /** The object's file with that suffix, opened once (again if an interrupt closed it); null if missing and not to be created. */
    private FileChannel channel(String object, String suffix, boolean create) throws IOException {
        Path path = dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + suffix);
        if (closed) {
            throw new IOException("the page store in " + dir + " is closed");
        }
        FileChannel file = open.channel(object, suffix);
        if (file == null) {
            // (re)open: a channel is closed for good when a thread is interrupted during its I/O, or
            // when its object was closed as the least recently used
            boolean created = create && !Files.exists(path);
            try {
                file = create
                        ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                                StandardOpenOption.WRITE)
                        : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (NoSuchFileException e) {
                return null; // never written
            }
            open.opened(object, suffix, file, path.getFileName().toString());
            if (created) {
                namesNotDurable.add(path);
            }
        }
        if (create && namesNotDurable.contains(path)) {
            dirSync.force(dir); // the new file's name, before a page in it counts as written (again if that failed)
            namesNotDurable.remove(path);
        }
        return file;
    }

    /** Logs that the page's file could not be read or written, and returns the error to throw. */
    static UncheckedIOException failure(String what, String object, long offset, Path file, IOException e) {
        String message = "page store: cannot " + what + " page 0x" + Long.toHexString(offset) + " of '" + object
                + "' in " + file + ": " + e;
        log.error(message);
        return new UncheckedIOException(message, e);
    }

    @Override
    public synchronized void close() {
        closed = true;
        open.closeAll();
    }
}
