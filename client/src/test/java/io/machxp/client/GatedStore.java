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
    private final PageStore memory;
    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger held = new AtomicInteger();
    /** Writes fail (a crashed pager's, which never reach the disk) until {@link #recover}. */
    private volatile boolean lost;

    /** Pages in memory: they do not outlive the pager. */
    GatedStore() {
        this(new MemoryPageStore());
    }

    /** Pages in {@code backing} (a {@code FilePageStore}: a restarted pager on it takes reclaims). */
    GatedStore(PageStore backing) {
        this.memory = backing;
    }

    @Override
    public boolean persistent() {
        return memory.persistent();
    }

    @Override
    public boolean restarted() {
        return memory.restarted();
    }

    @Override
    public long nextEpoch() {
        return memory.nextEpoch();
    }

    @Override
    public long swapLease(long leaseNanos) {
        return memory.swapLease(leaseNanos);
    }

    @Override
    public long keepLongerLease(long leaseNanos) {
        return memory.keepLongerLease(leaseNanos);
    }

    @Override
    public void holder(String object, long offset, String kernel) {
        memory.holder(object, offset, kernel);
    }

    @Override
    public java.util.List<Holder> holders() {
        return memory.holders();
    }

    @Override
    public void beginBatch() {
        memory.beginBatch();
    }

    @Override
    public void endBatch() {
        memory.endBatch();
    }

    @Override
    public void close() {
        memory.close();
    }

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
        if (lost) {
            throw new IllegalStateException("the disk is gone: the test crashed the pager before this write");
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

    /** The pager crashed: the writes held and any until {@link #recover} fail, and are not stored. */
    void crash() {
        lost = true;
        gate.countDown();
    }

    /** A pager started again on this store: its writes go through. */
    void recover() {
        lost = false;
    }

    /** The page as stored (written through the gate), or null. */
    byte[] stored(String object, long offset) {
        return memory.read(object, offset);
    }
}
