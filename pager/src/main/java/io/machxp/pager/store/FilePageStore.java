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
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PageStore} on disk, so that pages survive a pager restart: one file per memory object
 * in one directory, the page at offset N stored at byte N of the file (holes read as zeros).
 * The file name is the object name URL-encoded (UTF-8), which keeps it to safe characters and
 * different names apart, plus {@value #SUFFIX}. Every write is forced to the disk before it
 * returns. A page of zeros reads back as null ("never written"), which means the same thing.
 */
public final class FilePageStore implements PageStore {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    public static final String SUFFIX = ".pages";
    /** The pager's epoch (see {@link PageStore#nextEpoch}), a decimal number. */
    public static final String EPOCH_FILE = "epoch";

    private final Path dir;
    private final int pageSize;
    private final Map<String, FileChannel> files = new HashMap<>();
    private boolean closed;

    /**
     * Creates {@code dir} if it is missing.
     *
     * @throws IOException with a sentence for a person if {@code dir} cannot be created or written
     */
    public FilePageStore(Path dir, int pageSize) throws IOException {
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
            long next = Math.max(last + 1, PageStore.super.nextEpoch());
            Path tmp = dir.resolve(EPOCH_FILE + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap((next + "\n").getBytes(StandardCharsets.US_ASCII)));
                ch.force(true);
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return next;
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException(new IOException("the pager epoch in " + file + " cannot be read and advanced: "
                    + e + "; fix or delete the file", e));
        }
    }

    public Path directory() {
        return dir;
    }

    /** The file that holds the pages of {@code object}. */
    public Path fileOf(String object) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + SUFFIX);
    }

    @Override
    public byte[] read(String object, long offset) {
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
    public void write(String object, long offset, byte[] page) {
        if (page.length != pageSize) {
            throw new IllegalArgumentException("a page is " + pageSize + " bytes, not " + page.length);
        }
        try {
            FileChannel file = channel(object, true);
            ByteBuffer data = ByteBuffer.wrap(page);
            while (data.hasRemaining()) {
                file.write(data, offset + data.position());
            }
            file.force(false);
        } catch (IOException e) {
            throw failure("write", object, offset, e);
        }
    }

    private FileChannel channel(String object, boolean create) throws IOException {
        if (closed) {
            throw new IOException("the page store in " + dir + " is closed");
        }
        FileChannel file = files.get(object);
        if (file != null && file.isOpen()) {
            return file;
        }
        // (re)open: a channel is closed for good when a thread is interrupted during its I/O
        try {
            file = create
                    ? FileChannel.open(fileOf(object), StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE)
                    : FileChannel.open(fileOf(object), StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return null; // never written
        }
        files.put(object, file);
        return file;
    }

    private UncheckedIOException failure(String what, String object, long offset, IOException e) {
        String message = "page store: cannot " + what + " page 0x" + Long.toHexString(offset) + " of '" + object
                + "' in " + fileOf(object) + ": " + e;
        log.error(message);
        return new UncheckedIOException(message, e);
    }

    @Override
    public void close() {
        closed = true;
        files.forEach((object, file) -> {
            try {
                file.close();
            } catch (IOException e) {
                log.warn("page store: closing {}: {}", fileOf(object), e.toString());
            }
        });
        files.clear();
    }
}
