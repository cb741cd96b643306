package io.machxp.proto.shm;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The layout of the memory a kernel shares with task processes on its host (docs/shared-memory.md),
 * known to both sides. Two kinds of file, each mapped whole, every word in the host's byte order
 * and naturally aligned, so that a CAS through {@link #LONG} / {@link #INT} is atomic across
 * processes:
 *
 * <pre>
 *  kernel file:  0 magic | 8 lease end (System.nanoTime, CLOCK_MONOTONIC) | 16 thread slots
 *                64 + 64*i: slot i (a thread's, or a task's own):
 *                                           0 ctl (int: REVOKED bit | accesses under way, a task's)
 *                                           4 tid (0: the task's slot) | 8 pid of the task's process
 *                                          16 count records (a task's slot: 6 longs, each 0 or
 *                                             countRecord(object, page slot) of a count up, SLOT_COUNTS)
 *  futex table:  0 magic | 8 capacity (a power of two)
 *                64 + 32*j: futex slot j:   0 key (offset in the object + 1; 0: empty)
 *                                           8 state (the kernel's 64-bit futex state)
 *                                          16 fencing token of the grant
 *  page file:    0 magic ("MACHXPP2") | 8 page size (int) | 12 pages (int) | 16 where slot 0's bytes start (long)
 *                24 slots (int: one per page, then spares) | 28 the memory object's id (int, PAGE_OBJECT)
 *                64 + 8*k: slot k's ctl (int: MAPPED_READ | MAPPED_WRITE | accesses under way)
 *                          and, for k below pages, at +4 page k's slot (int: 0 slot k, else 1 + the slot)
 *                start + size*k: slot k's bytes: a page's while the kernel maps it there (little-endian words)
 * </pre>
 * Page words: a task process reads or writes an aligned 4- or 8-byte word of a mapped page in the
 * slot the kernel last put the page in, one access counted in that slot's ctl: it reads which slot,
 * counts itself there, checks the page is still in that slot (a slot serves another page only
 * after the page left it), reads the word, checks the slot is still mapped (so the value was read
 * before the kernel took the page), and writes with a CAS from that value. The kernel takes a page
 * without waiting: it clears the mapped bits; if an access is under way it also flips every word
 * (xor with a random mask, both halves non-zero) with an atomic xor whose old value is what it
 * keeps, so a CAS either landed before the flip (kept) or fails (the task asks the kernel
 * instead). It maps a slot again, for any page, only once no access is counted there; a page whose
 * slot still counts one (a process killed inside an access leaves its count for good) is mapped
 * in a spare slot instead.
 * A futex slot, once keyed, belongs to that offset for as long as the file lives (a futex's entry
 * never changes); the kernel writes the state before the key, so a reader that finds the key
 * sees a state. The fast path acts on a state of exactly 0 (cached here, live, free, nobody
 * waiting) and on exactly its own TID (held by it, nobody waiting); anything else is the kernel's.
 */
public final class ShmLayout {
    public static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
    public static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    public static final long KERNEL_MAGIC = 0x4d41434858504b31L; // "MACHXPK1"
    public static final long TABLE_MAGIC = 0x4d41434858505431L;  // "MACHXPT1"
    public static final int HEADER = 64;

    public static final int LEASE_END = 8;
    public static final int THREAD_SLOTS = 16;
    public static final int THREAD_SLOT_SIZE = 64;
    /**
     * The ctl word's bit the kernel sets to stop a thread's or task's fast path (termination), with
     * an atomic or before it looks at what they hold; a thread's lock loads it after its CAS.
     */
    public static final int REVOKED = 1 << 31;
    public static final int SLOT_TID = 4;
    public static final int SLOT_PID = 8;
    /**
     * In a task's slot: {@link #SLOT_COUNT_RECORDS} words, each 0 or a page count the task's
     * process holds now ({@link #countRecord}): set after it counted itself in a page slot's ctl,
     * cleared before it uncounts, so a record names only a count that is up. When the kernel knows
     * the process dead it takes those counts back (a killed access's count, which would otherwise
     * stay up for the session). An access that finds every record taken is not recorded.
     */
    public static final int SLOT_COUNTS = 16;
    public static final int SLOT_COUNT_RECORDS = 6;

    public static final int TABLE_CAPACITY = 8;
    public static final int FUTEX_SLOT_SIZE = 32;
    public static final int FUTEX_STATE = 8;
    public static final int FUTEX_FENCE = 16;

    /**
     * The page file's magic, its layout's version: "MACHXPP2" since a page may be in a slot other
     * than its own (spares, slot numbers). A client of the first layout ("MACHXPP1": page i always
     * in slot i) would read and write another page's slot, so it must not accept this file: it
     * refuses any other magic and reaches the pages through gRPC. Change it with the layout.
     */
    public static final long PAGE_MAGIC = 0x4d41434858505032L;   // "MACHXPP2"
    public static final int PAGE_SIZE = 8;
    public static final int PAGE_COUNT = 12;
    public static final int PAGE_DATA = 16;
    public static final int PAGE_SLOTS = 24;
    /** The page file's memory object id (int), which a task's count records name it by. */
    public static final int PAGE_OBJECT = 28;
    /** In page i's ctl entry: which slot holds the page's bytes while mapped (0: slot i, else 1 + the slot). */
    public static final int PAGE_SLOT = 4;
    /** Spare slots per page file: at least this many, or one per 16 pages. */
    public static final int MIN_SPARE_SLOTS = 16;
    public static final int MAPPED_READ = 1 << 30;
    public static final int MAPPED_WRITE = 1 << 29;
    public static final int ACCESSES = MAPPED_WRITE - 1;
    /** Page words: little-endian, as the kernel's pages are. */
    public static final VarHandle WORD64 = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    public static final VarHandle WORD32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private ShmLayout() {}

    /** The ctl word of slot {@code slot} (slot i is page i's own; page i's entry also holds its slot). */
    public static int pageCtl(int slot) {
        return HEADER + 8 * slot;
    }

    /** Where slot 0's bytes start in a page file of {@code slots} slots: past the ctl words, at a page boundary. */
    public static long pageData(int slots, int pageSize) {
        long end = HEADER + 8L * slots;
        return (end + pageSize - 1) / pageSize * pageSize;
    }

    /**
     * The slots of a page file for {@code pages} pages: one per page and spares ({@link
     * #MIN_SPARE_SLOTS}, or one per 16 pages), fewer spares where the file would not fit a mapping
     * (2 GiB - 1).
     */
    public static int pageSlots(int pages, int pageSize) {
        int spares = Math.max(MIN_SPARE_SLOTS, pages / 16);
        long room = (Integer.MAX_VALUE - pageData(pages + spares, pageSize) - (long) pages * pageSize) / pageSize;
        return pages + (int) Math.max(0, Math.min(spares, room));
    }

    /** A page file's size: its header, the ctl words and the bytes of every slot. */
    public static long pageFileSize(int pages, int pageSize) {
        int slots = pageSlots(pages, pageSize);
        return pageData(slots, pageSize) + (long) slots * pageSize;
    }

    /**
     * The slot that holds page {@code page}'s bytes while the kernel maps it, as the kernel last
     * published it (a volatile load); the caller checks that it lies in the file.
     */
    public static int pageSlot(ByteBuffer pages, int page) {
        int v = (int) INT.getVolatile(pages, pageCtl(page) + PAGE_SLOT);
        return v == 0 ? page : v - 1;
    }

    /** A count record: a count up in slot {@code slot} of object {@code objectId}'s page file; never 0. */
    public static long countRecord(int objectId, int slot) {
        return ((long) objectId + 1) << 32 | (slot & 0xffffffffL);
    }

    public static int threadSlot(int slot) {
        return HEADER + slot * THREAD_SLOT_SIZE;
    }

    public static int futexSlot(int slot) {
        return HEADER + slot * FUTEX_SLOT_SIZE;
    }

    public static long kernelFileSize(int threadSlots) {
        return HEADER + (long) threadSlots * THREAD_SLOT_SIZE;
    }

    public static long tableFileSize(int capacity) {
        return HEADER + (long) capacity * FUTEX_SLOT_SIZE;
    }

    /**
     * Whether a lease ending at {@code end} ({@link System#nanoTime}; {@link Long#MAX_VALUE}: no
     * lease, the session is the stream; {@link Long#MIN_VALUE}: closed) runs now. The one
     * definition of the check for the kernel's own fast path (LeaseGate). Without a lease no clock
     * is read (no time passes Long.MAX_VALUE): the clock read is most of a fast lock's cost on a
     * VM's clock. Task processes use {@link #leaseRuns(ByteBuffer)}, where no lease means closed.
     */
    public static boolean leaseRuns(long end) {
        return end == Long.MAX_VALUE || System.nanoTime() < end;
    }

    /**
     * Whether a task process's fast path may act now: the lease the kernel publishes at
     * {@link #LEASE_END} of its file runs, by this process's {@code CLOCK_MONOTONIC} (the kernel
     * lets only a client on its own clock attach: same time namespace and a clock sample that
     * agrees), read as {@link TaskClock#before(long)} reads it: the coarse clock with an allowance
     * for its lag where this JVM can call it, else (and within the allowance of the end)
     * {@link System#nanoTime}. Loaded opaque: the kernel only moves it later (a keepalive answered) or closes it,
     * so an end loaded before the clock is read errs the way a check made a moment earlier would.
     * The caller orders it against its access: a read checks after its load, a write before its
     * CAS.
     *
     * <p>Unlike the kernel's own gate, {@link Long#MAX_VALUE} (no lease) does <em>not</em> run
     * here: without a lease nothing bounds a task process in time once its kernel is gone (a
     * SIGKILLed kernel's threads die with it, its task processes do not, and the pager gives its
     * futexes and pages on at once), so a task process of a session without a lease takes nothing
     * on the fast path (no lock, no page access; an unlock only gives): those calls go through the
     * kernel (the call file, or gRPC), which ends with it. The kernel
     * publishes {@link Long#MIN_VALUE} then; MAX_VALUE is what kernels before that published.
     */
    public static boolean leaseRuns(ByteBuffer kernelFile) {
        long end = (long) LONG.getOpaque(kernelFile, LEASE_END);
        return end != Long.MAX_VALUE && TaskClock.before(end);
    }

    /**
     * What the kernel publishes at {@link #LEASE_END} for its gate's end {@code end}: the end
     * itself while a lease bounds it, {@link Long#MIN_VALUE} (closed for task processes) without
     * a lease ({@link Long#MAX_VALUE}): see {@link #leaseRuns(ByteBuffer)}.
     */
    public static long publishedLeaseEnd(long end) {
        return end == Long.MAX_VALUE ? Long.MIN_VALUE : end;
    }

    /** Where probing for {@code offset} starts in a table of {@code capacity} slots. */
    public static int home(long offset, int capacity) {
        long h = (offset >>> 2) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & (capacity - 1);
    }

    /**
     * The futex slot keyed {@code offset} in a mapped table, or -1 if the kernel has made none
     * (yet). Any process.
     */
    public static int find(ByteBuffer table, int capacity, long offset) {
        long key = offset + 1;
        int i = home(offset, capacity);
        for (int probes = 0; probes < capacity; probes++) {
            long k = (long) LONG.getAcquire(table, futexSlot(i));
            if (k == key) {
                return i;
            }
            if (k == 0) {
                return -1;
            }
            i = (i + 1) & (capacity - 1);
        }
        return -1;
    }

    /** Maps a whole file read-write (the task side: the kernel made it). */
    public static ByteBuffer map(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
        }
    }

    /**
     * This process's PID namespace (Linux: the target of {@code /proc/self/ns/pid}, such as
     * {@code pid:[4026531836]}); empty where it cannot be read. Two processes see each other's
     * process ids only in the same namespace: a kernel trusts the pid a client reports only then.
     */
    public static String pidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException | RuntimeException none) {
            return "";
        }
    }

    /**
     * This process's time namespace (Linux 5.6 and later: the target of {@code /proc/self/ns/time},
     * such as {@code time:[4026531834]}); empty where it cannot be read (then there are no time
     * namespaces, or nothing tells). CLOCK_MONOTONIC, which {@link System#nanoTime} reads and the
     * lease's end is published on, is per time namespace: a kernel shares memory only with a
     * client in its own.
     */
    public static String timeNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/time")).toString();
        } catch (IOException | RuntimeException none) {
            return "";
        }
    }

    /**
     * Whether {@code other} is known and this process's own PID namespace ({@link #pidNamespace()},
     * read once: a process never changes its own PID namespace, and a kernel asks at every attach,
     * on its core thread).
     */
    public static boolean samePidNamespace(String other) {
        return !other.isEmpty() && other.equals(OwnPidNamespace.VALUE);
    }

    /** This process's PID namespace, read at the first {@link #samePidNamespace}. */
    private static final class OwnPidNamespace {
        static final String VALUE = pidNamespace();
    }

    /**
     * This host's identity for this boot (Linux: {@code /proc/sys/kernel/random/boot_id}); empty
     * where there is none, and then nothing is shared.
     */
    public static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        } catch (IOException | RuntimeException none) {
            return "";
        }
    }
}
