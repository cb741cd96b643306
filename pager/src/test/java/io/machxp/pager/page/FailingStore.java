package io.machxp.pager.page;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A store in memory whose next {@link #failWrites} page writes and next {@link #failHolders}
 * journal writes fail with "disk full", and whose next {@link #failVersions} reads of a page's
 * version fail with an I/O error.
 */
class FailingStore implements PageStore {
    final MemoryPageStore memory = new MemoryPageStore();
    int failWrites;
    int failHolders;
    int failVersions;
    /** A page offset every write of which fails ("bad sector"); -1: none. */
    long failingPage = -1;

    FailingStore(int failWrites) {
        this.failWrites = failWrites;
    }

    /** Pages read so far. */
    int reads;

    @Override
    public byte[] read(String object, long offset) {
        reads++;
        return memory.read(object, offset);
    }

    @Override
    public long version(String object, long offset) {
        if (failVersions > 0) {
            failVersions--;
            throw new UncheckedIOException(new IOException("I/O error reading the version"));
        }
        return memory.version(object, offset);
    }

    @Override
    public void write(String object, long offset, byte[] page, long version) {
        if (offset == failingPage) {
            throw new UncheckedIOException(new IOException("bad sector"));
        }
        if (failWrites > 0) {
            failWrites--;
            throw new UncheckedIOException(new IOException("disk full"));
        }
        memory.write(object, offset, page, version);
    }

    @Override
    public void holder(String object, long offset, String kernel) {
        if (failHolders > 0) {
            failHolders--;
            throw new UncheckedIOException(new IOException("disk full"));
        }
        memory.holder(object, offset, kernel);
    }

    @Override
    public java.util.List<Holder> holders() {
        return memory.holders();
    }
}
