package io.machxp.examples.filepager;

import io.machxp.pager.lib.PagerBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One memory object whose pages are the bytes of a file: page {@code n} is the file's bytes from
 * {@code n * pageSize}. Every access is logged (logger {@code file-pager.access}), so a run shows
 * what the kernels asked of the pager. The file grows as pages past its end are written; bytes
 * past its end read as zeros. Read-only, it refuses write access (the kernel gets data_error).
 */
public final class FileBackend implements PagerBackend {
    private static final Logger access = LoggerFactory.getLogger("file-pager.access");

    private final String object;
    private final Path file;
    private final int pageSize;
    private final boolean readOnly;
    private final FileChannel channel;

    /**
     * @param object the memory object's name, as kernels name it in memory_object_init
     * @throws IOException if the file cannot be opened (or created, unless read-only)
     */
    public FileBackend(String object, Path file, int pageSize, boolean readOnly) throws IOException {
        this.object = object;
        this.file = file;
        this.pageSize = pageSize;
        this.readOnly = readOnly;
        this.channel = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
    }

    /** The file's length now. */
    public long length() {
        try {
            return channel.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tell the length of " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] read(String name, long offset) throws IOException {
        check(name);
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        int got;
        do {
            got = channel.read(page, offset + page.position()); // a read may be short before the end
        } while (got >= 0 && page.hasRemaining());
        access.info("read   {} page 0x{} ({} bytes from {})", name, Long.toHexString(offset), page.position(), file);
        return page.position() == 0 ? null : page.array(); // null: past the end, all zeros
    }

    @Override
    public void unlock(String name, long offset) throws IOException {
        check(name);
        access.info("unlock {} page 0x{}{}", name, Long.toHexString(offset), readOnly ? ": refused, read-only" : "");
        if (readOnly) {
            throw new IOException(file + " is served read-only");
        }
    }

    @Override
    public void write(String name, long offset, byte[] page) throws IOException {
        check(name);
        if (readOnly) {
            throw new IOException(file + " is served read-only"); // unlock refused every writer
        }
        ByteBuffer data = ByteBuffer.wrap(page);
        while (data.hasRemaining()) {
            channel.write(data, offset + data.position());
        }
        channel.force(false); // durable when this returns, as the library asks
        access.info("write  {} page 0x{} ({} bytes to {})", name, Long.toHexString(offset), page.length, file);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            access.warn("closing {}: {}", file, e.getMessage());
        }
    }

    private void check(String name) throws IOException {
        if (!object.equals(name)) {
            throw new IOException("this pager serves '" + object + "', not '" + name + "'"); // the library checks first
        }
    }
}
