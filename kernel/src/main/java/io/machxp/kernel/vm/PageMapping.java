package io.machxp.kernel.vm;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The direct mapping of one resident page into the tasks of this kernel: the memory counterpart
 * of the futex fast path. While the core keeps the page mapped, an in-process task's
 * {@code vm_read} / {@code vm_write} inside the page is a copy on the caller's thread, as a load
 * or store to mapped memory is on hardware; the core is not involved.
 *
 * <h2>Overview</h2>
 * <pre>
 *   UNMAPPED --map(READ | READ_WRITE), core-----------------------------> MAPPED
 *   MAPPED   --enter (one more copy under way), exit (one fewer), any thread
 *   MAPPED   --revoke, core: no new copies, then wait for those under way--> UNMAPPED
 * </pre>
 * The core revokes the mapping before it touches the page's bytes or lowers its access, as a
 * kernel shoots down a TLB entry, and maps it again when it next serves an access to the page.
 * A copy that wrote sets {@link #takeWritten() written}, which the core folds into the page's
 * dirty state after revoking. One int holds the state: the mapped access in the top two bits, the
 * number of copies under way below.
 */
public final class PageMapping {
    private static final int READ = 1 << 30;
    private static final int WRITE = 1 << 29;
    private static final int COPIES = WRITE - 1;
    /** Spins before the revoking core yields to let a descheduled copy finish. */
    private static final int SPINS = 1_000;

    private final AtomicInteger state = new AtomicInteger();
    private volatile boolean written;

    /** Core only: lets copies that need at most {@code access} run without the core. */
    public void map(VmPage.Access access) {
        int bits = switch (access) {
            case NONE -> 0;
            case READ -> READ;
            case READ_WRITE -> READ | WRITE;
        };
        while (true) {
            int s = state.get();
            if (state.compareAndSet(s, (s & COPIES) | bits)) {
                return;
            }
        }
    }

    /**
     * Core only: no copy starts after this returns, and every copy that started has ended (its
     * bytes are in the page and visible to the core).
     */
    public void revoke() {
        while (true) {
            int s = state.get();
            if ((s & ~COPIES) == 0 || state.compareAndSet(s, s & COPIES)) {
                break;
            }
        }
        for (int spins = 0; (state.get() & COPIES) != 0; spins++) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Core only, after {@link #revoke}: whether a copy wrote the page since the last call. */
    public boolean takeWritten() {
        if (!written) {
            return false;
        }
        written = false;
        return true;
    }

    /** Any thread: starts a copy if the page is mapped with {@code write} access; false if not. */
    boolean enter(boolean write) {
        int need = write ? WRITE : READ;
        while (true) {
            int s = state.get();
            if ((s & need) == 0) {
                return false;
            }
            if (state.compareAndSet(s, s + 1)) {
                return true;
            }
        }
    }

    /** Any thread: ends a copy started by {@link #enter}; {@code wrote} if it changed the page. */
    void exit(boolean wrote) {
        if (wrote) {
            written = true;
        }
        state.decrementAndGet();
    }
}
