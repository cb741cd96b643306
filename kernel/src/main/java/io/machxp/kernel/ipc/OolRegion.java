package io.machxp.kernel.ipc;

import java.util.Arrays;

/**
 * Out-of-line memory of a message, with Mach's copy semantics and no copy until someone writes:
 * sending a region shares its bytes with the message (and then the receiver); the first write by
 * either side copies them first, so the receiver sees the data as it was when sent and the sender
 * keeps writing its own. A region sent with {@code deallocate} is moved: the sender's region is
 * gone (reads and writes then throw).
 *
 * <p>Overview: each region points at a {@link Backing} that counts its sharers; write copies when
 * the count is above one (the copy-on-write of a Mach VM copy object, on a byte array). Any
 * thread may read; a region is written by one thread at a time, as memory of one task is.
 */
public final class OolRegion {
    private static final class Backing {
        final byte[] bytes;
        int sharers = 1;

        Backing(byte[] bytes) {
            this.bytes = bytes;
        }
    }

    private Backing backing;

    private OolRegion(Backing backing) {
        this.backing = backing;
    }

    /** A region holding a copy of {@code data}. */
    public static OolRegion of(byte[] data) {
        return new OolRegion(new Backing(data.clone()));
    }

    public synchronized int size() {
        return live().bytes.length;
    }

    /** A copy of the bytes. */
    public synchronized byte[] read() {
        return live().bytes.clone();
    }

    /** Writes {@code data} at {@code offset}, copying the bytes first if a message or receiver shares them. */
    public synchronized void write(int offset, byte[] data) {
        Backing b = live();
        if (b.sharers > 1) {
            b.sharers--;
            b = new Backing(b.bytes.clone());
            backing = b;
        }
        System.arraycopy(data, 0, b.bytes, offset, data.length);
    }

    /** Whether this region still shares its bytes with another (no copy made yet); for tests. */
    public synchronized boolean shared() {
        return backing != null && backing.sharers > 1;
    }

    /** The message's view of the region at send time: shares the bytes. Moving it ends the sender's region. */
    synchronized OolRegion copyForMessage(boolean deallocate) {
        Backing b = live();
        if (deallocate) {
            backing = null;
            return new OolRegion(b);
        }
        synchronized (b) {
            b.sharers++;
        }
        return new OolRegion(b);
    }

    /** The message was destroyed: it no longer shares the bytes. */
    synchronized void release() {
        if (backing != null) {
            backing.sharers--;
            backing = null;
        }
    }

    /** Whether the region was moved away (sent with deallocate): copyin of it is MACH_SEND_INVALID_MEMORY. */
    synchronized boolean deallocated() {
        return backing == null;
    }

    private Backing live() {
        if (backing == null) {
            throw new IllegalStateException("this out-of-line region was deallocated (sent with deallocate)");
        }
        return backing;
    }

    @Override
    public synchronized String toString() {
        return backing == null ? "OolRegion(deallocated)" : "OolRegion" + Arrays.toString(backing.bytes);
    }
}
