package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectSynchronize;
import io.machxp.proto.xp.MemoryObjectSynchronizeCompleted;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * vm_msync: the kernel side of Mach's memory_object_synchronize (XP spec 6.9). Part of the kernel
 * core: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  vm_msync(object, range)        -> the range widened to whole pages inside the object; a
 *                                    data_return (dirty, kernel_copy) of each page of it held
 *                                    dirty ({@link PageCache#returnDirty}), then
 *                                    memory_object_synchronize(range); the call waits
 *  synchronize_completed(range)   -> the oldest msync waiting for that object and range returns
 *                                    (the count of pages it gave back), or fails EINVAL with the
 *                                    pager's sentence; one nobody waits for is a violation
 *  the pager is lost              -> every msync waiting on its objects fails (its error: EIO)
 * </pre>
 * A synchronize asks nothing of other kernels: the pages they hold dirty stay theirs (spec 6.9).
 */
final class PageSync {
    /** An msync waiting for its synchronize_completed. */
    private record Waiting(long offset, long length, int returned, Reply<Integer> reply) {}

    private final PageCache pages;
    private final PageCache.Link link;
    private final Map<Integer, ArrayDeque<Waiting>> waiting = new HashMap<>();

    PageSync(PageCache pages, PageCache.Link link) {
        this.pages = pages;
        this.link = link;
    }

    /** vm_msync of [offset, offset + length) of {@code o}, a range inside the object. */
    void msync(VmObject o, long offset, long length, Reply<Integer> reply) {
        KernelError down = link.pagerError(o.objectId);
        if (down != null) {
            reply.fail(down);
            return;
        }
        long first = offset - o.offsetInPage(offset);
        long end = Math.min(o.size, ceilToPage(o, offset + length));
        int returned = pages.returnDirty(o, first, end);
        link.send(KernelToPager.newBuilder().setMemoryObjectSynchronize(MemoryObjectSynchronize.newBuilder()
                .setObjectId(o.objectId).setOffset(first).setLength(end - first)).build());
        waiting.computeIfAbsent(o.objectId, id -> new ArrayDeque<>()).add(new Waiting(first, end - first, returned,
                reply));
    }

    /** memory_object_synchronize_completed: the oldest msync of that object and range returns. */
    void onCompleted(MemoryObjectSynchronizeCompleted c) {
        ArrayDeque<Waiting> queue = waiting.get(c.getObjectId());
        Waiting w = null;
        if (queue != null) {
            for (Iterator<Waiting> it = queue.iterator(); it.hasNext(); ) {
                Waiting x = it.next();
                if (x.offset == c.getOffset() && x.length == c.getLength()) {
                    w = x;
                    it.remove();
                    break;
                }
            }
            if (queue.isEmpty()) {
                waiting.remove(c.getObjectId());
            }
        }
        if (w == null) {
            link.violation("memory_object_synchronize_completed for a synchronize it did not send", c.getObjectId(),
                    c.getOffset());
            return;
        }
        if (c.getError().isEmpty()) {
            w.reply.complete(w.returned);
        } else {
            w.reply.fail(KernelError.of(Errno.EINVAL, "the pager refused to synchronize 0x%x+0x%x: %s", c.getOffset(),
                    c.getLength(), c.getError()));
        }
    }

    /** The pager of {@code o} is lost, or {@code o} goes: every msync waiting on it fails. */
    void failAll(VmObject o, KernelError error) {
        ArrayDeque<Waiting> queue = waiting.remove(o.objectId);
        if (queue != null) {
            queue.forEach(w -> w.reply.fail(error));
        }
    }

    private static long ceilToPage(VmObject o, long offset) {
        int in = o.offsetInPage(offset);
        return in == 0 ? offset : offset - in + o.pageSize;
    }
}
