package io.machxp.pager.lib;

import io.machxp.pager.store.DirectorySync;
import io.machxp.pager.store.FilePageStore;
import io.machxp.pager.store.PageStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;

/**
 * A {@link PagerBackend} made durable for restarts: the backend keeps the pages' bytes, and a state
 * directory keeps what else a restarted pager needs to take its kernels' reclaims (xp-spec 9.2,
 * 9.4): each page's version, the holders' journal, the pager's epoch and the last lease. The
 * directory is machxp's {@link FilePageStore} for the journal, epoch and lease (it holds no pages
 * here), plus one versions file an object.
 *
 * <pre>
 *  versions-HEX   HEX: the object's name, UTF-8 in hex. A slot of 16 bytes a page (page n at 16 n):
 *                 its version (8 bytes), then a CRC-32 of the page number n and the version (8 bytes).
 *                 A slot of zeros: version 0 (never written). A slot whose CRC does not match: the
 *                 start fails, naming the file.
 * </pre>
 * A page is written to the backend first (durable when it returns, as the library asks), then its
 * version, forced; a versions file created here has its name forced too (the directory), before
 * the write returns, and again at the next write if that failed. A crash between the two leaves data newer than its version, never a version
 * newer than its data: a kernel that reclaims the newer data gives it again at its version (taken),
 * and none can hold a read-only copy of it (the pager flushes readers before it grants a write).
 * Versions are read whole at the start; writes come on the pager's store thread.
 */
final class DurableBackendStore implements PageStore {
    private static final int SLOT = 16;
    private static final String PREFIX = "versions-";

    private final BackendStore data;
    private final FilePageStore state;
    private final Path dir;
    private final int pageSize;
    /** Versions by object, then page number; read at the start, written on the store thread. */
    private final Map<String, Map<Long, Long>> versions = new ConcurrentHashMap<>();
    /** The open versions file of each object written since the start. */
    private final Map<String, FileChannel> files = new HashMap<>();
    /** Forces the state directory's entries (a new versions file's name). */
    private final DirectorySync dirSync;
    /** Objects whose versions file was opened here and whose name is not known durable yet. */
    private final java.util.Set<String> namesUnforced = new java.util.HashSet<>();

    DurableBackendStore(PagerBackend backend, int pageSize, Path dir) throws IOException {
        this(backend, pageSize, dir, DirectorySync.FSYNC);
    }

    /** As the constructor above, forcing the versions files' names with {@code dirSync}. */
    DurableBackendStore(PagerBackend backend, int pageSize, Path dir, DirectorySync dirSync) throws IOException {
        this.dirSync = dirSync;
        this.data = new BackendStore(backend, pageSize);
        this.pageSize = pageSize;
        this.state = new FilePageStore(dir, pageSize);
        this.dir = state.directory();
        try (DirectoryStream<Path> found = Files.newDirectoryStream(this.dir, PREFIX + "*")) {
            for (Path file : found) {
                String hex = file.getFileName().toString().substring(PREFIX.length());
                String object = new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
                versions.put(object, read(file));
            }
        } catch (IOException | IllegalArgumentException e) {
            state.close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    private Map<Long, Long> read(Path file) throws IOException {
        Map<Long, Long> read = new ConcurrentHashMap<>();
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        for (long page = 0; b.remaining() >= SLOT; page++) {
            long version = b.getLong();
            long crc = b.getLong();
            if (version == 0 && crc == 0) {
                continue;
            }
            if (crc != crc(page, version)) {
                throw new IOException("the page versions in " + file + " are damaged at page " + page + " (its "
                        + "checksum does not match): the pager cannot tell which version its kernels' pages are; "
                        + "restore the directory from a copy, or move it away and start the pager again without "
                        + "saying it starts fresh (no --fresh): on an empty state directory it waits a lease before "
                        + "granting anything, refuses the kernels' reclaims, so they stop, and gives each futex "
                        + "with owner_died; the pages keep the bytes the backend has");
            }
            read.put(page, version);
        }
        return read;
    }

    private static long crc(long page, long version) {
        CRC32 c = new CRC32();
        c.update(ByteBuffer.allocate(16).putLong(page).putLong(version).array());
        return c.getValue();
    }

    @Override
    public byte[] read(String object, long offset) {
        return data.read(object, offset);
    }

    @Override
    public long version(String object, long offset) {
        Map<Long, Long> v = versions.get(object);
        return v == null ? 0 : v.getOrDefault(offset / pageSize, 0L);
    }

    @Override
    public void write(String object, long offset, byte[] page, long version) {
        data.write(object, offset, page, version); // durable first: the version never runs ahead of it
        long n = offset / pageSize;
        try {
            FileChannel f;
            synchronized (files) {
                f = files.get(object);
                if (f == null) {
                    f = FileChannel.open(dir.resolve(PREFIX + HexFormat.of().formatHex(object.getBytes(
                            StandardCharsets.UTF_8))), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    files.put(object, f);
                    namesUnforced.add(object);
                }
            }
            f.write(ByteBuffer.allocate(SLOT).putLong(version).putLong(crc(n, version)).flip(), n * SLOT);
            f.force(false);
            synchronized (files) {
                if (namesUnforced.contains(object)) {
                    // The file's force covers its bytes, not its name: a name lost at a power failure
                    // would bring every page of the object back at version 0 under newer bytes.
                    dirSync.force(dir);
                    namesUnforced.remove(object); // only once forced: a failure forces again at the next write
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the version of page 0x" + Long.toHexString(offset) + " of '" + object
                    + "' cannot be written in " + dir + ": " + e.getMessage(), e);
        }
        versions.computeIfAbsent(object, o -> new ConcurrentHashMap<>()).put(n, version);
    }

    @Override
    public void unlock(String object, long offset) throws IOException {
        data.unlock(object, offset);
    }

    @Override
    public void beginBatch() {
        state.beginBatch();
    }

    @Override
    public void endBatch() {
        state.endBatch();
    }

    @Override
    public void holder(String object, long offset, String kernel) {
        state.holder(object, offset, kernel);
    }

    @Override
    public List<Holder> holders() {
        return state.holders();
    }

    @Override
    public long nextEpoch() {
        return state.nextEpoch();
    }

    @Override
    public long swapLease(long leaseNanos) {
        return state.swapLease(leaseNanos);
    }

    @Override
    public long keepLongerLease(long leaseNanos) {
        return state.keepLongerLease(leaseNanos);
    }

    @Override
    public boolean restarted() {
        return state.restarted();
    }

    /**
     * An empty state directory is not a record of a clean first start: the bytes outlived whatever
     * pager served them before (one with its state in memory, an older build, a deleted or new
     * directory), whose kernels may still hold futexes.
     */
    @Override
    public boolean pastUnknownAtFirstStart() {
        return true;
    }

    /** The pages' versions, the journal, the epoch and the lease survive: reclaims can be taken. */
    @Override
    public boolean persistent() {
        return true;
    }

    @Override
    public boolean blocking() {
        return true;
    }

    @Override
    public void close() {
        synchronized (files) {
            for (FileChannel f : files.values()) {
                try {
                    f.close();
                } catch (IOException e) {
                    // closing after forced writes: nothing is lost
                }
            }
            files.clear();
        }
        state.close();
        data.close();
    }

    @Override
    public String toString() {
        return data + ", its pager's state in " + dir;
    }
}
