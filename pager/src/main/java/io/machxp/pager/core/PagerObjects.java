package io.machxp.pager.core;

import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerToKernel;

/**
 * The memory objects a kernel uses, under its own object ids (kept on its {@link KernelSession}):
 * <pre>
 *  memory_object_init(id, name)  -> memory_object_ready (size, may cache), or
 *                                   memory_object_destroy with a reason: the pager serves no object
 *                                   of that name, the page sizes differ, the session has
 *                                   MAX_OBJECTS_PER_SESSION objects already, or a kernel connected
 *                                   here states a directory that sends the object to another
 *                                   pager (spec 2.8, {@link DirectoryViews#initRefusal})
 *  memory_object_terminate(id)   -> the id is forgotten; while another id of the kernel names the
 *                                   object, answers under it are still taken (spec 5.3) and, if
 *                                   the pager named the object by it, each relinquish
 *                                   outstanding goes again under the other id;
 *                                   once no other id of the kernel names the
 *                                   object, the kernel holds none of its pages
 *                                   ({@link PageCoherence}) and none of its futexes and waits for
 *                                   none ({@link PagerFutexes}); nothing is sent back
 *  memory_object_synchronize     -> memory_object_synchronize_completed once the store has done
 *   (id, range)                    every write before it (the kernel's data_returns of the range
 *                                  came first), with an error if a page of the range the store
 *                                  failed to write is not written yet, or if a dirty return of the
 *                                  session in the range was not taken (stale) since its last
 *                                  synchronize of the page; at once, with an error, for
 *                                  a range that is not whole pages inside an object the kernel
 *                                  initialized
 *  memory_object_change_completed -> refused: machxp's pager sends no change_attributes (spec 6.11)
 * </pre>
 * An init of an id already initialized is answered with memory_object_ready again for the same
 * object (nothing changes); for another object it ends the session with EINVAL (spec 5.1). A
 * terminate of an id never initialized is refused.
 */
final class PagerObjects {
    /**
     * Bounds on what one session may make the pager keep, so that a flooding or broken kernel
     * cannot exhaust its memory: objects initialized at once, and futexes held or asked for (a
     * cached futex costs the pager a record; 100k cached futexes is the scale benchmark).
     */
    static final int MAX_OBJECTS_PER_SESSION = 1024;

    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;

    private final PagerFutexes.SessionEnd sessionEnd;

    PagerObjects(CoreContext core, PageCoherence pages, PagerFutexes futexes, PagerFutexes.SessionEnd sessionEnd) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.sessionEnd = sessionEnd;
    }

    void init(KernelSession s, MemoryObjectInit init) {
        int objectId = init.getObjectId();
        MemoryObject already = s.objects.get(objectId);
        if (already != null) {
            // Answered, not dropped (spec 5.1): the same object again is ready again, nothing changes.
            if (already.name().equals(init.getName()) && init.getPageSize() == core.pageSize) {
                core.send(s, PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                        .setObjectId(objectId).setSize(already.size()).setMayCache(true)).build());
                return;
            }
            // Another object (or page size): the kernel lost track of its ids, and its threads may
            // still hold futexes and pages of the object the id named. The session ends (4.4), so
            // what it holds goes with owner_died at its lease's end (4.5), not as a terminate would.
            sessionEnd.end(s, Errno.EINVAL, "kernel '" + s.kernelName + "' initialized object id " + objectId
                    + " as " + Shown.quoted(init.getName()) + " while it names " + Shown.quoted(already.name())
                    + " (page size " + init.getPageSize() + "): a kernel MUST terminate an id before it "
                    + "initializes it again (XP spec 5.1)");
            return;
        }
        // An init of a retired id ends its alias whatever the answer (spec 5.3): after it, answers
        // under the id name what the init names, or nothing.
        s.retiredIds.remove(objectId);
        MemoryObject o = core.catalog.get(init.getName());
        String reason = null;
        if (s.objects.size() >= MAX_OBJECTS_PER_SESSION) {
            core.stats.refused.increment();
            reason = s + " has " + s.objects.size() + " objects initialized, the most a session may have; "
                    + "terminate objects it no longer uses";
        } else if (o == null) {
            reason = "pager " + core.name + " serves no memory object named " + Shown.quoted(init.getName()) + " (it serves "
                    + String.join(", ", core.catalog.names()) + ")";
        } else if (init.getPageSize() != core.pageSize) {
            reason = "the kernel's page size " + init.getPageSize() + " is not the pager's " + core.pageSize;
        } else {
            // a kernel connected here sends the object to another pager (xp-spec 2.8): this init
            // would start a second copy, so it is refused, and nobody else's session changes
            reason = DirectoryViews.initRefusal(views, s, o.name(), core.name);
        }
        if (reason != null) {
            core.send(s, PagerToKernel.newBuilder().setMemoryObjectDestroy(
                    MemoryObjectDestroy.newBuilder().setObjectId(objectId).setReason(reason)).build());
            return;
        }
        s.objects.put(objectId, o);
        core.holders.initialized(s, objectId);
        core.send(s, PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(objectId).setSize(o.size()).setMayCache(true)).build());
    }

    /** The views the open sessions stated (PagerSessions', built after this part), for the directory check of an init. */
    private StatedViews views;

    void sessions(StatedViews stated) {
        this.views = stated;
    }

    void terminate(KernelSession s, int objectId) {
        MemoryObject o = s.objects.get(objectId);
        if (o == null) {
            core.refuse(s, "memory_object_terminate for object id " + objectId + ", which it never initialized");
            return;
        }
        // The pager names an object to a kernel by the first of its ids initialized (objectIdOf), and
        // ids are only ever added after it: every ask outstanding went under it.
        boolean named = s.objectIdOf(o.name()) == objectId;
        s.objects.remove(objectId);
        core.holders.terminated(s, objectId, o.name());
        if (s.objects.containsValue(o)) {
            // Still initialized under another id. A relinquish or lock_request sent under this id
            // may cross the terminate: answers under it still name the object (spec 5.3). If the
            // pager named the object by this id, each relinquish outstanding to the kernel for the
            // object is sent again under the id it names the object by now (a kernel drops a duplicate
            // relinquish of a futex it gave back, 3.6). Another id's terminate sends nothing. A
            // lock_request is not sent again: a kernel may answer one under either id (5.3), so the
            // answers to two could not be told apart and one would be taken for a later request's.
            if (s.retiredIds.size() >= KernelSession.MAX_RETIRED_IDS) {
                s.retiredIds.remove(s.retiredIds.keySet().iterator().next());
            }
            s.retiredIds.put(objectId, o);
            if (named) {
                futexes.askAgainUnder(s, o.name());
            }
            return;
        }
        s.retiredIds.values().removeIf(retired -> retired == o);
        s.refusedReturns.remove(o.name());
        s.refusedOverflow.remove(o.name());
        futexes.departures.holderLeaving(s, o.name()); // a forward's page waits for releaseHeld below
        pages.forget(s, o.name());
        futexes.departures.leaveQueues(s, o.name());
        futexes.departures.releaseHeld(s, o.name());
    }

    /**
     * The error for a synchronize of the range if a dirty return of the session in it was not taken
     * since its last synchronize of the page (stale or out of range, spec 7.3): the data it gave back
     * is not the pager's copy, so the synchronize MUST NOT be answered with success (spec 6.9). Those
     * notes are cleared: each refused return is reported once.
     */
    private static String refusedReturns(KernelSession s, MemoryObject o, long offset, long length) {
        java.util.NavigableMap<Long, String> pages = s.refusedReturns.get(o.name());
        java.util.SortedMap<Long, String> in = pages == null ? java.util.Collections.emptySortedMap()
                : pages.subMap(offset, offset + length);
        String error = null;
        if (!in.isEmpty()) {
            error = in.get(in.firstKey()) + (in.size() > 1 ? " (and " + (in.size() - 1) + " more page(s) of the range)" : "");
            in.clear();
            if (pages.isEmpty()) {
                s.refusedReturns.remove(o.name());
            }
        }
        if (s.refusedOverflow.contains(o.name())) {
            if (error == null) {
                error = "more than " + KernelSession.MAX_REFUSED_RETURNS + " dirty returns of this session were not "
                        + "taken (stale versions, spec 7.3), some of '" + o.name() + "'; the pager does not know which "
                        + "pages";
            }
            if (offset == 0 && length >= o.size()) {
                s.refusedOverflow.remove(o.name());
            }
        }
        return error;
    }

    /** memory_object_change_completed: this pager sends no change_attributes, so nobody asked for it. */
    void changeCompleted(KernelSession s, io.machxp.proto.xp.MemoryObjectChangeCompleted c) {
        core.refuse(s, "memory_object_change_completed for object id " + c.getObjectId() + ": this pager sent no "
                + "memory_object_change_attributes");
    }

    /**
     * memory_object_synchronize: answered with synchronize_completed once the store has done
     * every write submitted before it (a barrier, as a keepalive's answer is), with an error if
     * the store failed to write a page of the range and has not written it since (it is tried
     * again, see {@link StoreRetries}); or at once with an error for a range that is not whole
     * pages inside an object the kernel initialized.
     */
    void synchronize(KernelSession s, io.machxp.proto.xp.MemoryObjectSynchronize m) {
        MemoryObject o = s.objects.get(m.getObjectId());
        long offset = m.getOffset();
        long length = m.getLength();
        String error = o == null ? "object id " + m.getObjectId() + " is not initialized on this session"
                : offset < 0 || offset % core.pageSize != 0 || length <= 0 || length % core.pageSize != 0
                        || offset >= o.size()
                        || length > o.size() - offset ? "range 0x" + Long.toHexString(offset) + "+0x"
                        + Long.toHexString(length) + " is not whole pages inside '" + o.name() + "' (size 0x"
                        + Long.toHexString(o.size()) + ")" : "";
        PagerToKernel completed = PagerToKernel.newBuilder().setMemoryObjectSynchronizeCompleted(
                io.machxp.proto.xp.MemoryObjectSynchronizeCompleted.newBuilder().setObjectId(m.getObjectId())
                        .setOffset(offset).setLength(length).setError(error)).build();
        if (!error.isEmpty()) {
            core.send(s, completed);
            return;
        }
        String refused = refusedReturns(s, o, offset, length);
        core.env.storeEffect(() -> { }, failure -> {
            String unwritten = refused != null ? refused : core.retries.unwritten(o, offset, length);
            core.send(s, unwritten == null ? completed : completed.toBuilder().setMemoryObjectSynchronizeCompleted(
                    completed.getMemoryObjectSynchronizeCompleted().toBuilder().setError(unwritten)).build());
        });
    }
}
