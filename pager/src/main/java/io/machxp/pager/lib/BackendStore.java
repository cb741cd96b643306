package io.machxp.pager.lib;

import io.machxp.pager.store.PageStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A {@link PagerBackend} as the pager core's {@link PageStore}: the backend keeps the data, this
 * keeps the page versions, in memory. Its I/O failures become UncheckedIOExceptions naming the
 * page, as the core expects of a store. Not persistent: after a restart kernels cannot reclaim.
 */
final class BackendStore implements PageStore {
    private final PagerBackend backend;
    private final int pageSize;
    /** Written on the store thread, read on the core's: concurrent. */
    private final Map<String, Long> versions = new java.util.concurrent.ConcurrentHashMap<>();

    BackendStore(PagerBackend backend, int pageSize) {
        this.backend = backend;
        this.pageSize = pageSize;
    }

    @Override
    public byte[] read(String object, long offset) {
        byte[] data;
        try {
            data = backend.read(object, offset);
        } catch (IOException e) {
            throw failed("read", object, offset, e);
        }
        if (data == null) {
            return null;
        }
        if (data.length == pageSize) {
            return data.clone(); // the backend may reuse its array; the pager sends what it reads uncopied
        }
        if (data.length > pageSize) {
            throw failed("read", object, offset, new IOException("the backend gave " + data.length
                    + " bytes for a page of " + pageSize));
        }
        return java.util.Arrays.copyOf(data, pageSize);
    }

    @Override
    public long version(String object, long offset) {
        return versions.getOrDefault(key(object, offset), 0L);
    }

    @Override
    public void write(String object, long offset, byte[] page, long version) {
        try {
            backend.write(object, offset, page);
        } catch (IOException e) {
            throw failed("write", object, offset, e);
        } catch (RuntimeException e) { // a bug of the backend's: still a failed write, said as one
            throw new IllegalStateException("the backend " + backend.getClass().getSimpleName() + " threw writing page 0x"
                    + Long.toHexString(offset) + " of '" + object + "': " + e, e);
        }
        versions.put(key(object, offset), version);
    }

    @Override
    public void unlock(String object, long offset) throws IOException {
        backend.unlock(object, offset);
    }

    /** A backend may block (a disk, a network): the pager never calls it on its core thread. */
    @Override
    public boolean blocking() {
        return true;
    }

    @Override
    public void close() {
        backend.close();
    }

    /** For the pager's start-up line: "pages from the backend FileBackend". */
    @Override
    public String toString() {
        return "the backend " + backend.getClass().getSimpleName();
    }

    private static String key(String object, long offset) {
        return offset + "/" + object;
    }

    private static UncheckedIOException failed(String what, String object, long offset, IOException e) {
        return new UncheckedIOException("the backend cannot " + what + " page 0x" + Long.toHexString(offset) + " of '"
                + object + "': " + e.getMessage(), e);
    }
}
