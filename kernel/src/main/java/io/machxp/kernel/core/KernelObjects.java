package io.machxp.kernel.core;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.shm.SharedMemory;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectReady;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The memory objects a kernel maps, and where a task's address falls in them. Part of the kernel
 * core: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  vm_map of a new name  -> INITIALIZING: memory_object_init; the vm_map waits
 *  memory_object_ready   -> READY: every waiting vm_map maps the object in its task (a kernel
 *                           that shares memory first has the object's files made off the core
 *                           thread, KernelEnv.fileEffect; vm_maps wait for them)
 *  memory_object_destroy -> forgotten: every waiting vm_map fails (EINVAL, with the pager's reason)
 * </pre>
 * A vm_map of an object already READY maps at once. A vm_map that passed its checks holds its
 * mapping's place in the task's and the peer's bounds while it waits ({@link MapUnderWay}), and
 * fails with ESRCH, mapping nothing, if its task ends first ({@link #taskEnded}), or EINTR if its
 * caller gives up meanwhile ({@link #vmMapWithdraw}); a mapping made for a caller that never heard
 * of it is undone ({@link #vmUnmap}). A ready or destroy for an object not being
 * initialized is a violation (logged and ignored). A ready with a size the kernel cannot use (not
 * a positive multiple of the page size, or more than MAX_OBJECT_PAGES pages) fails the vm_maps
 * waiting for it instead, as a destroy does.
 *
 * <p>Addresses: a request's address must fall in one mapping of its task, and the range it moves
 * must stay within it; a futex is an aligned 32-bit word, the word of an atomic 4 or 8 bytes.
 */
final class KernelObjects {
    private static final int MAX_OBJECT_NAME = 255;
    /**
     * The most mappings a task has (there is no vm_deallocate: they end with the task, but for one
     * made for a caller that gave up, {@link #vmUnmap}). Each vm_map
     * copies the task's table of mappings, so without a bound a task mapping in a loop would cost
     * the core thread - every task's - more and more per call.
     */
    static final int MAX_MAPPINGS_PER_TASK = 4096;
    /** The most pages an object may have (64 GiB at 4 KiB): its table of pages is allocated whole. */
    private static final long MAX_OBJECT_PAGES = 1 << 24;

    private final KernelCore core;
    private final Map<String, VmObject> objectsByName = new HashMap<>();
    private final Map<Integer, VmObject> objectsById = new HashMap<>();
    private int nextObjectId = 1;

    KernelObjects(KernelCore core) {
        this.core = core;
    }

    VmObject object(int objectId) {
        return objectsById.get(objectId);
    }

    /** Every object the kernel knows, initializing or ready. */
    Collection<VmObject> all() {
        return objectsById.values();
    }

    /**
     * The objects pager {@code pager} serves in its session now (all of them with one pager),
     * initializing or ready; not those retired with a lost session.
     */
    Collection<VmObject> servedBy(int pager) {
        return core.sessions.count() == 1 ? objectsById.values()
                : objectsById.values().stream().filter(o -> o.pager == pager && !core.sessions.lost.retired(o)).toList();
    }

    /**
     * Object {@code o} was retired with its pager's lost session: its name maps a new object from
     * now on. It stays known by its id, for its mappings' calls to fail as they do.
     */
    void forgetName(VmObject o) {
        objectsByName.remove(o.name, o);
    }

    /**
     * Object {@code o}, retired with its pager's lost session, is mapped by no task any more: no
     * call can name it, and the kernel forgets it (else each loss of a pager would keep its
     * objects, their tables of pages and futexes, for as long as the kernel runs).
     */
    void forget(VmObject o) {
        objectsByName.remove(o.name, o);
        objectsById.remove(o.objectId, o);
        ended(o);
    }

    /**
     * Object {@code o} ended (terminated, or forgotten): the session's shared memory gives back
     * the slots it kept for its pages and forgets its page file once nothing is due there
     * ({@link SharedMemory#objectTerminated}).
     */
    void ended(VmObject o) {
        SharedMemory shared = core.sharedMemory();
        if (shared != null && o.sharedPages != null) {
            shared.objectTerminated(o.objectId);
        }
    }

    /** How many objects the kernel keeps (mapped, cached, or retired and still mapped). */
    int count() {
        return objectsById.size();
    }

    // ---- vm_map -------------------------------------------------------------------------------

    void vmMap(long taskId, String objectName, Reply<VmMapping> reply) {
        MachTask task = core.tasks.connectedTask(taskId, reply);
        if (task == null) {
            return;
        }
        if (objectName == null || objectName.isEmpty() || objectName.length() > MAX_OBJECT_NAME
                || !objectName.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "memory object name '%s' is not valid: use 1 to %d printable characters without spaces",
                    objectName, MAX_OBJECT_NAME));
            return;
        }
        if (task.mappingCount() + task.mapsUnderWay >= MAX_MAPPINGS_PER_TASK) {
            reply.fail(KernelError.of(Errno.EAGAIN, "the task of this vm_map has %d mappings, the most a task "
                    + "keeps; map each object once and use its address again (a task's mappings end with it)",
                    MAX_MAPPINGS_PER_TASK));
            return;
        }
        ClientShares shares = core.tasks.shares;
        if (shares.mappings.used() >= shares.mappings.max()) {
            reply.fail(KernelError.of(Errno.EAGAIN, "kernel %s has %d mappings, the most it keeps for all tasks "
                    + "together; terminate tasks that are no longer needed (a task's mappings end with it)", core.name(),
                    shares.mappings.max()));
            return;
        }
        KernelError share = shares.refusal(shares.mappings, task.peer, "mappings", "terminate tasks it no longer "
                + "needs (a task's mappings end with it), and map each object once per task");
        if (share != null) {
            reply.fail(share);
            return;
        }
        VmObject o = objectsByName.get(objectName);
        // every vm_map, of a held object too (dir2-review H1): a new mapping of an object known to be
        // in dispute would extend a split; the mappings it has keep working
        KernelError disputed = core.disputes.refusal(objectName, o != null);
        if (disputed != null) {
            reply.fail(disputed); // another kernel uses it at a pager this kernel's directory does not send it to
            return;
        }
        if (o == null) {
            KernelSession session = core.sessions.session(core.directory.pagerOf(objectName));
            if (!session.connected(reply)) {
                return;
            }
            int pageSize = session.pageSize();
            o = new VmObject(nextObjectId++, objectName, pageSize);
            o.pager = session.pager;
            objectsByName.put(objectName, o);
            objectsById.put(o.objectId, o);
            core.sessions.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                    .setObjectId(o.objectId).setName(objectName).setPageSize(pageSize)).build());
        }
        MapUnderWay map = new MapUnderWay(task, o, shares, reply); // holds its share from here on
        if (o.mappable()) {
            map.resume();
        } else {
            o.pendingMaps.add(map);
        }
    }

    /**
     * Task {@code task} ended ({@code why}): its vm_maps still waiting for an object fail now
     * (ESRCH), giving back what they held, instead of mapping into the ended task when the pager
     * answers.
     */
    void taskEnded(MachTask task, String why) {
        for (VmObject o : objectsById.values()) {
            if (o.pendingMaps.isEmpty()) {
                continue;
            }
            List<MapUnderWay> ended = new ArrayList<>();
            o.pendingMaps.removeIf(f -> f instanceof MapUnderWay m && m.task == task && ended.add(m));
            ended.forEach(m -> m.taskEnded(why));
        }
    }

    /**
     * The vm_map answered by {@code reply} that still waits for its object stops: it fails with
     * {@code why} (its caller gave up, or abandoned its create_token), giving back the place it
     * held; false if none waits (it was answered already).
     */
    boolean vmMapWithdraw(MachTask task, Reply<?> reply, KernelError why) {
        for (VmObject o : objectsById.values()) {
            for (PageFault f : o.pendingMaps) {
                if (f instanceof MapUnderWay m && m.task == task && m.answers(reply)) {
                    o.pendingMaps.remove(f);
                    m.fail(why);
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * vm_map's undo: mapping {@code m} of {@code task}, made for a caller that never heard of it
     * (it gave up, or abandoned the call's create_token), goes, as a task's mappings go at its end
     * ({@link #unmapped}): the object's, the task's and the peer's counts are given back exactly
     * once. False if the task no longer has it (it ended: its end gave everything back).
     */
    boolean vmUnmap(MachTask task, VmMapping m) {
        if (!task.alive() || !task.removeMapping(m)) {
            return false;
        }
        unmapped(task, m);
        return true;
    }

    /**
     * Mapping {@code m}, just taken out of {@code task}'s address space (one undone, or all at the
     * task's end): its object's pages are taken back from direct use (writes under way land before,
     * or are refused), and the object and the task's peer count it no more.
     */
    void unmapped(MachTask task, VmMapping m) {
        m.object().forEachPage(core.pages::unmap);
        ObjectAttributes.unmapped(core, m.object());
        core.tasks.shares.mappings.given(task.peer);
    }

    /** Whether this kernel keeps an object of that name (mapped, cached, or being initialized). */
    boolean uses(String objectName) {
        return objectsByName.containsKey(objectName);
    }

    // ---- answers to memory_object_init ----------------------------------------------------------

    void onReady(MemoryObjectReady r) {
        VmObject o = objectsById.get(r.getObjectId());
        long size = r.getSize();
        if (o == null || o.state != VmObject.State.INITIALIZING) {
            core.violation("memory_object_ready it cannot use", r.getObjectId(), size);
            return;
        }
        int pageSize = o.pageSize;
        if (size <= 0 || size % pageSize != 0 || size / pageSize > MAX_OBJECT_PAGES) {
            // The pager says nothing more about this init: the maps waiting for it fail, as on destroy.
            core.violation("memory_object_ready with a size it cannot use", o.objectId, size);
            objectsById.remove(o.objectId);
            objectsByName.remove(o.name);
            failAll(o.pendingMaps, KernelError.of(Errno.EINVAL, "memory object '%s' cannot be mapped: its size "
                    + "%d is not a positive multiple of the page size %d up to %d pages", o.name, size, pageSize,
                    MAX_OBJECT_PAGES));
            return;
        }
        o.ready(size);
        ObjectAttributes.onReady(core, o, r);
        SharedMemory shared = core.sharedMemory();
        if (shared == null) {
            resumeMaps(o);
            return;
        }
        // Its files for task processes are made off the core thread; its maps wait for them, and
        // with no mapping yet no page of it can be touched meanwhile.
        o.awaitingFiles = true;
        core.env.fileEffect(() -> shared.objectFiles(o.objectId, pageSize, size), files -> {
            o.sharedFutexes = files == null ? null : files.futexes(); // null: could not be made, gRPC
            o.sharedPages = files == null ? null : files.pages();
            o.awaitingFiles = false;
            resumeMaps(o);
        });
    }

    private static void resumeMaps(VmObject o) {
        List<PageFault> maps = new ArrayList<>(o.pendingMaps);
        o.pendingMaps.clear();
        maps.forEach(PageFault::resume);
    }

    /** memory_object_change_attributes ({@link ObjectAttributes}). */
    void onChangeAttributes(io.machxp.proto.xp.MemoryObjectChangeAttributes c) {
        VmObject o = objectsById.get(c.getObjectId());
        if (o == null || o.state != VmObject.State.READY) {
            core.violation("memory_object_change_attributes for an object that is not ready", c.getObjectId(), 0);
            return;
        }
        ObjectAttributes.change(core, o, c);
    }

    void onDestroy(MemoryObjectDestroy d) {
        VmObject o = objectsById.get(d.getObjectId());
        if (o == null || o.state != VmObject.State.INITIALIZING) {
            // It answers memory_object_init: a ready object has mappings, pages, waiters.
            core.violation("memory_object_destroy of an object that is not being initialized", d.getObjectId(), 0);
            return;
        }
        objectsById.remove(o.objectId);
        objectsByName.remove(o.name);
        String asked = core.sessions.count() == 1 ? "" : String.format(Locale.ROOT, " (this kernel asked its pager %d, %s; every "
                + "kernel of a cluster needs the same --pager list and --object-pagers, docs/multi-pager.md)", o.pager,
                core.directory.assigned(o.name) ? "as its --object-pagers says" : "by the rule CRC-32 of the name mod "
                        + core.sessions.count() + ", as no --object-pagers names it");
        failAll(o.pendingMaps, KernelError.of(Errno.EINVAL, "memory object '%s' cannot be mapped: %s%s",
                o.name, d.getReason(), asked));
    }

    static void failAll(List<PageFault> faults, KernelError error) {
        List<PageFault> copy = new ArrayList<>(faults);
        faults.clear();
        copy.forEach(f -> f.fail(error));
    }

    // ---- what the pager's messages are about ----------------------------------------------------

    /** The ready object of a page message, if {@code offset} is a page of it; else null. */
    VmObject readyObject(int objectId, long offset) {
        VmObject o = objectsById.get(objectId);
        return o != null && o.state == VmObject.State.READY && offset >= 0 && offset < o.size
                && offset % o.pageSize == 0 ? o : null;
    }

    /** A futex message from the pager about a futex this kernel never asked for, or null. */
    /** The object of that name, or null: another kernel names objects by name (a futex forwarded). */
    VmObject objectNamed(String name) {
        return objectsByName.get(name);
    }

    FutexEntry trackedFutex(int objectId, long offset) {
        VmObject o = objectsById.get(objectId);
        if (o == null || o.state != VmObject.State.READY || offset < 0 || offset >= o.size || (offset & 3) != 0) {
            return null;
        }
        VmPage page = o.page(offset);
        return page == null ? null : page.futexIfPresent(o.offsetInPage(offset));
    }

    // ---- addresses of requests ----------------------------------------------------------------

    /** Where a request's bytes are: an object and an offset in it. */
    record Range(VmObject object, long offset) {}

    /** The aligned word of an atomic: 4 or 8 bytes, within one mapping (so within one page). */
    Range wordRange(long taskId, long address, int width, String call, Reply<?> reply) {
        if (width != 4 && width != 8) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "%s of a %d-byte word: the word of an atomic is 4 bytes (WORD32) or 8 (WORD64)", call, width));
            return null;
        }
        return resolveRange(taskId, address, width, width, call, reply);
    }

    /** The range of a vm_read, vm_write or atomic; null after failing the reply. */
    Range resolveRange(long taskId, long address, long length, int align, String call, Reply<?> reply) {
        MachTask task = core.tasks.connectedTask(taskId, reply);
        if (task == null) {
            return null;
        }
        if (length < 1 || length > KernelMemory.MAX_TRANSFER) {
            reply.fail(KernelError.of(Errno.EINVAL, "%s of %s bytes: a call moves 1 to %d bytes; split the transfer",
                    call, Long.toUnsignedString(length), KernelMemory.MAX_TRANSFER));
            return null;
        }
        if (address % align != 0) {
            reply.fail(KernelError.of(Errno.EINVAL, "address 0x%x is not %d-byte aligned, as %s of a %d-byte word needs",
                    address, align, call, align));
            return null;
        }
        VmMapping m = mappingAt(task, address, reply);
        if (m == null) {
            return null;
        }
        if (length > m.end() - address) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "%s of %d bytes at 0x%x runs past the end of '%s' (mapped at 0x%x, 0x%x bytes)",
                    call, length, address, m.object().name, m.start(), m.size()));
            return null;
        }
        return new Range(m.object(), address - m.start());
    }

    /** A futex request's thread and where its address falls. */
    record Target(MachThread thread, VmMapping mapping, long offset) {}

    /** The futex word at {@code address} of the thread's task; null after failing the reply. */
    Target futexTarget(MachThread thread, long address, Reply<?> reply) {
        if ((address & 3) != 0) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "address 0x%x is not 4-byte aligned; a futex is an aligned 32-bit word", address));
            return null;
        }
        VmMapping m = mappingAt(thread.task, address, reply);
        return m == null ? null : new Target(thread, m, address - m.start());
    }

    /** The mapping of {@code task} that holds {@code address}; else fails the reply. */
    private VmMapping mappingAt(MachTask task, long address, Reply<?> reply) {
        VmMapping m = task.mappingAt(address);
        if (m == null) {
            reply.fail(KernelError.of(core.plants.unmappedAddress(Errno.EINVAL),
                    "address 0x%x is outside every mapping of task %d; map a memory object with vm_map first",
                    address, task.id));
        }
        return m;
    }
}
