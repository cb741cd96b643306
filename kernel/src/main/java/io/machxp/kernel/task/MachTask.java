package io.machxp.kernel.task;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmMapping;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A task: an address space (its mappings) and its threads. The core adds mappings and threads;
 * any thread may read them, which is what lets the futex fast path find a futex without the core.
 */
public final class MachTask {
    /** Where the first mapping goes; later ones follow, a guard page apart. */
    public static final long FIRST_MAPPING_ADDRESS = 0x1000_0000L;

    public final long id;
    public final String name;
    private final Map<Integer, MachThread> threads = new ConcurrentHashMap<>();
    /** Sorted by start; replaced whole (copy on write) by the core. */
    private volatile VmMapping[] mappings = new VmMapping[0];
    private volatile boolean alive = true;
    /**
     * vm_maps of this task that passed their checks and wait for their object (core thread): they
     * count against the task's bound of mappings as the mappings they will be.
     */
    public int mapsUnderWay;

    /**
     * The peer of the client that created it over gRPC (its host and certificate), or null for a
     * task created in process: what its threads and mappings count to ({@code PeerShares}).
     */
    public final Object peer;

    public MachTask(long id, String name) {
        this(id, name, null);
    }

    public MachTask(long id, String name, Object peer) {
        this.id = id;
        this.name = name;
        this.peer = peer;
    }

    public MachThread thread(int tid) {
        return threads.get(tid);
    }

    public void addThread(MachThread thread) {
        threads.put(thread.tid, thread);
    }

    public void removeThread(int tid) {
        threads.remove(tid);
    }

    /** The threads, in TID order (a copy). */
    public java.util.List<MachThread> threads() {
        return threads.values().stream().sorted(java.util.Comparator.comparingInt(t -> t.tid)).toList();
    }

    /** Its mappings now; any thread. */
    public java.util.List<VmMapping> mappings() {
        return java.util.List.of(mappings);
    }

    public void addMapping(VmMapping mapping) {
        VmMapping[] old = mappings;
        VmMapping[] next = java.util.Arrays.copyOf(old, old.length + 1);
        next[old.length] = mapping;
        java.util.Arrays.sort(next, java.util.Comparator.comparingLong(VmMapping::start));
        mappings = next;
    }

    /**
     * Core thread only: mapping {@code mapping} (this very one) goes from the address space; false
     * if the task has no such mapping (it ended, or the mapping went already). The caller revokes
     * its object's pages' mappings, as at the task's end.
     */
    public boolean removeMapping(VmMapping mapping) {
        VmMapping[] old = mappings;
        int at = 0;
        while (at < old.length && old[at] != mapping) { // this one, not an equal one made later at its address
            at++;
        }
        if (at == old.length) {
            return false;
        }
        VmMapping[] next = new VmMapping[old.length - 1];
        System.arraycopy(old, 0, next, 0, at);
        System.arraycopy(old, at + 1, next, at, old.length - at - 1);
        mappings = next;
        return true;
    }

    /**
     * Core thread only, when the task ends: its address space goes. Returns the mappings it had;
     * the caller revokes their pages' mappings, so that no copy of this task is under way after.
     */
    public VmMapping[] removeMappings() {
        VmMapping[] old = mappings;
        alive = false;
        mappings = new VmMapping[0];
        return old;
    }

    /** False once the task has ended. Any thread. */
    public boolean alive() {
        return alive;
    }

    /** Bytes of one page: the page's slot and where in the page they start. */
    public record MappedBytes(VmPage page, int offsetInPage) {}

    /**
     * Where {@code length} bytes at {@code address} are, if they lie in one page of one mapping
     * and the kernel has touched that page; else null. Any thread; never blocks.
     */
    public MappedBytes mappedBytes(long address, int length) {
        VmMapping m = mappingAt(address);
        if (m == null || length < 1) {
            return null;
        }
        long offset = address - m.start();
        int in = m.object().offsetInPage(offset);
        VmPage page = m.object().page(offset);
        return page == null || offset + length > m.size() || in + length > page.size ? null : new MappedBytes(page, in);
    }

    /** The address just past the last mapping plus a guard page; core thread only. */
    public long nextFreeAddress(int pageSize) {
        VmMapping[] m = mappings;
        return m.length == 0 ? FIRST_MAPPING_ADDRESS : m[m.length - 1].end() + pageSize;
    }

    /** How many mappings the task has. Any thread. */
    public int mappingCount() {
        return mappings.length;
    }

    /** The mapping that holds {@code address}, or null: a binary search of the sorted, disjoint mappings. Any thread. */
    public VmMapping mappingAt(long address) {
        VmMapping[] m = mappings;
        int lo = 0;
        int hi = m.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (address < m[mid].start()) {
                hi = mid - 1;
            } else if (address >= m[mid].end()) {
                lo = mid + 1;
            } else {
                return m[mid];
            }
        }
        return null;
    }

    /**
     * The futex at {@code address} if this kernel tracks it, else null.
     * Any thread; no allocation; never blocks.
     */
    public FutexEntry residentFutex(long address) {
        if ((address & 3) != 0) {
            return null;
        }
        VmMapping m = mappingAt(address);
        if (m == null) {
            return null;
        }
        long offset = address - m.start();
        VmPage page = m.object().page(offset);
        return page == null ? null : page.futexIfPresent(m.object().offsetInPage(offset));
    }
}
