package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.WORD32;
import static io.machxp.proto.shm.ShmLayout.WORD64;

import io.machxp.proto.shm.ShmLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * vm_read and vm_write of an aligned 4- or 8-byte word of a page the kernel maps to this process
 * (docs/shared-memory.md; the protocol is in {@link ShmLayout}): a load, or a CAS from the value
 * loaded, in the slot of the page file the kernel put the page in, each counted in the task's ctl
 * (which the kernel revokes before it ends the task) and in that slot's. Anything else - another
 * size, a page not mapped here now, a page that moved to another slot, the word of a futex, an
 * access the kernel overtook, a lease that ran out - returns false, and the caller asks the
 * kernel over gRPC. Thread-safe. Cost over the counts: two loads of the page's slot number, one
 * before the count and one after (SharedPages says why a page moves and why the second is needed).
 *
 * <p>The lease: the kernel takes its pages back only when its core runs, and a task process runs
 * on while the kernel is paused (GC, SIGSTOP, a blocked core) past its lease; the pager may then
 * have given the page to another kernel. So a read checks the lease end the kernel publishes
 * after its load (a value loaded while the lease ran precedes any other kernel's write: the pager
 * waits longer than the lease before it gives the page away), and a write checks it before each
 * CAS (a write never lands after the end), with {@link ShmLayout#leaseRuns(ByteBuffer)}, as the
 * futex lock does. A narrowing, like the lock's (LeaseGate): a write paused between the check and
 * its CAS lands in the old slot.
 */
final class SharedWords {
    private final SharedTaskMemory memory;
    /** Accesses served here, without the kernel. */
    final java.util.concurrent.atomic.LongAdder served = new java.util.concurrent.atomic.LongAdder();

    /** Tests only: runs inside an access, before it counts itself (null in production). */
    volatile Runnable beforeCount;
    /** Tests only: runs inside an access once it counted and recorded itself (null in production). */
    volatile Runnable whileCounted;

    SharedWords(SharedTaskMemory memory) {
        this.memory = memory;
    }

    /** The word's value in {@code out[0]}, or false. */
    boolean read(long address, int width, long[] out) {
        return counted(access(address, width, false, 0, out));
    }

    boolean write(long address, int width, long value) {
        return counted(access(address, width, true, value, null));
    }

    private boolean counted(boolean done) {
        if (done) {
            served.increment();
        }
        return done;
    }

    private boolean access(long address, int width, boolean write, long value, long[] out) {
        SharedTaskMemory.Mapping m = memory.mappingAt(address);
        if (m == null || m.pages() == null || (width != 4 && width != 8)) {
            return false;
        }
        long offset = address - m.start();
        if ((offset & (width - 1)) != 0 || offset + width > m.size()) {
            return false;
        }
        ByteBuffer kernel = memory.kernel;
        ByteBuffer pages = m.pages();
        int pageSize = m.pageSize();
        int index = (int) (offset / pageSize);
        int slot = ShmLayout.pageSlot(pages, index);
        long at = m.dataStart() + (long) slot * pageSize + offset % pageSize;
        if (slot < 0 || ShmLayout.pageCtl(slot) >= m.dataStart() || at + width > pages.capacity()) {
            return false; // not a slot of the file (a task process wrote the slot number)
        }
        int ctl = ShmLayout.pageCtl(slot);
        int need = write ? ShmLayout.MAPPED_WRITE : ShmLayout.MAPPED_READ;
        Runnable hook = beforeCount;
        if (hook != null) {
            hook.run();
        }
        int task = (int) INT.getAndAdd(kernel, memory.taskCtl, 1);
        try {
            if ((task & ShmLayout.REVOKED) != 0) {
                return false;
            }
            int page = (int) INT.getAndAdd(pages, ctl, 1);
            int record = -1;
            try {
                // inside the try: whatever it throws (a SIGBUS is an InternalError), the count goes back
                record = recorded(kernel, memory.taskCtl, ShmLayout.countRecord(m.objectId(), slot));
                Runnable counted = whileCounted;
                if (counted != null) {
                    counted.run();
                }
                // The page still in that slot, after the count: the kernel gives a slot to another
                // page only after this page left it (its entry names another slot by then) and
                // once nothing is counted there, so an access counted in a slot that now holds
                // another page sees the page moved.
                // The futex check comes after the count: the kernel keys a futex after it took the
                // page and maps a slot again only with no access counted, so an access counted
                // under the newer mapping sees the key, and one under the older is overtaken by the
                // take (its load or CAS fails the mapped check). Checked before the count, a word
                // that became a futex's in between was written as a plain word (a torn write).
                return (page & need) != 0 && ShmLayout.pageSlot(pages, index) == slot && !holdsFutex(m, offset, width)
                        && (write ? store(kernel, pages, ctl, (int) at, width, value, need)
                                : load(kernel, pages, ctl, (int) at, width, out));
            } finally {
                if (record >= 0) {
                    ShmLayout.LONG.setVolatile(kernel, record, 0L); // before the uncount: a record names only a count up
                }
                INT.getAndAdd(pages, ctl, -1);
            }
        } finally {
            INT.getAndAdd(kernel, memory.taskCtl, -1);
        }
    }

    /**
     * After the count: records it in a free record word of the task's slot (ShmLayout.SLOT_COUNTS),
     * so the kernel can take it back if this process dies before it uncounts; where, or -1 if every
     * record word is taken (then a death inside this access leaves the count up, as before).
     * A CAS, not a plain store into a word of the thread's own (review S5 of shm-pool): any Java
     * thread of the process reaches here (vm_read / vm_write through TaskClient, not only a Mach
     * thread with a slot of its own in the kernel file), so a record word has no single writer,
     * and claiming one for a thread would take a CAS too. The line is the task ctl's, which the
     * task count's getAndAdd has just taken exclusively, so an uncontended CAS there costs one
     * locked operation on a line this core owns; threads of one task contend on that line already.
     */
    private static int recorded(ByteBuffer kernel, int taskCtl, long record) {
        for (int i = 0; i < ShmLayout.SLOT_COUNT_RECORDS; i++) {
            int at = taskCtl + ShmLayout.SLOT_COUNTS + 8 * i;
            if ((long) ShmLayout.LONG.getVolatile(kernel, at) == 0L && ShmLayout.LONG.compareAndSet(kernel, at, 0L, record)) {
                return at;
            }
        }
        return -1;
    }

    /**
     * A load, valid if the page was still mapped after it (so the kernel had not taken it yet) and
     * the kernel's lease still ran (so no other kernel can have written the page yet).
     */
    private static boolean load(ByteBuffer kernel, ByteBuffer pages, int ctl, int at, int width, long[] out) {
        long v = width == 8 ? (long) WORD64.getVolatile(pages, at) : (int) WORD32.getVolatile(pages, at) & 0xffffffffL;
        if (((int) INT.getVolatile(pages, ctl) & ShmLayout.MAPPED_READ) == 0 || !ShmLayout.leaseRuns(kernel)) {
            return false;
        }
        out[0] = v;
        return true;
    }

    /**
     * A CAS from a value loaded while the page was mapped, made while the kernel's lease runs: it
     * either lands before the kernel flips the word when it takes the page (and the kernel keeps
     * it), or fails.
     */
    private static boolean store(ByteBuffer kernel, ByteBuffer pages, int ctl, int at, int width, long value, int need) {
        VarHandle word = width == 8 ? WORD64 : WORD32;
        while (true) {
            long seen = width == 8 ? (long) WORD64.getVolatile(pages, at) : (int) WORD32.getVolatile(pages, at);
            if (((int) INT.getVolatile(pages, ctl) & need) == 0 || !ShmLayout.leaseRuns(kernel)) {
                return false;
            }
            boolean swapped = width == 8 ? word.compareAndSet(pages, at, seen, value)
                    : word.compareAndSet(pages, at, (int) seen, (int) value);
            if (swapped) {
                return true;
            }
        }
    }

    /** Whether the range holds the word of a futex the kernel tracks (those are the kernel's). */
    private static boolean holdsFutex(SharedTaskMemory.Mapping m, long offset, int width) {
        for (long w = offset & ~3L; w < offset + width; w += 4) {
            if (ShmLayout.find(m.table(), m.capacity(), w) >= 0) {
                return true;
            }
        }
        return false;
    }
}
