package io.machxp.client;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store in memory whose page writes wait, on the pager's store thread, until the test opens
 * its gate: a disk that has not written yet. {@link #held} counts the writes waiting; a write
 * counts as stored ({@link #stored}) only once it went through.
 */
final class GatedStore implements PageStore {
    private final MemoryPageStore memory = new MemoryPageStore();
    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger held = new AtomicInteger();

    @Override
    public byte[] read(String object, long offset) {
        return memory.read(object, offset);
    }

    @Override
    public long version(String object, long offset) {
        return memory.version(object, offset);
    }

    @Override
    public void write(String object, long offset, byte[] page, long version) {
        held.incrementAndGet();
        try {
            if (!gate.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never opened the store's gate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the store's gate was closed", e);
        } finally {
            held.decrementAndGet();
        }
        memory.write(object, offset, page, version);
    }

    @Override
    public boolean blocking() {
        return true; // written on the pager's store thread: a held write does not hold its core
    }

    /** Page writes waiting at the gate now. */
    int held() {
        return held.get();
    }

    /** Lets every write through, now and from now on. */
    void open() {
        gate.countDown();
    }

    /** The page as stored (written through the gate), or null. */
    byte[] stored(String object, long offset) {
        return memory.read(object, offset);
    }
}
