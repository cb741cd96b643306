package io.machxp.kernel.core;

import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;

/**
 * One vm_map that passed its checks, from then until its answer: it holds what its mapping will
 * take from the start, so that calls in flight together cannot pass a bound that each alone
 * respects (a vm_map of an object being initialized waits for memory_object_ready, and before,
 * the mapping counted only once it was made: k calls waiting together got k mappings past a
 * peer's share). Part of the kernel core: core thread only.
 *
 * <h2>States</h2>
 * <pre>
 *  (new)     reserves one of the task's MAX_MAPPINGS_PER_TASK (MachTask.mapsUnderWay) and one of
 *            the kernel's mappings, counted to the task's client peer (ClientShares.mappings)
 *  waiting   in the object's pendingMaps until memory_object_ready (and its shared files)
 *  resume    task alive: the mapping is made; the peer's reservation is now the mapping's
 *            task ended: fails as below
 *  fail      the object could not be had (destroy, a bad ready, the session lost or the kernel
 *            ending), its task ended meanwhile (ESRCH: {@link #taskEnded}), or its caller gave up
 *            or abandoned its create_token (EINTR: KernelObjects.vmMapWithdraw): both reservations
 *            are given back and nothing is mapped
 * </pre>
 * Each one is answered once: a second resume or fail (a task ended, then the object's answer)
 * does nothing.
 */
final class MapUnderWay implements PageFault {
    final MachTask task;
    private final VmObject object;
    private final ClientShares shares;
    private final Reply<VmMapping> reply;
    private boolean answered;

    MapUnderWay(MachTask task, VmObject object, ClientShares shares, Reply<VmMapping> reply) {
        this.task = task;
        this.object = object;
        this.shares = shares;
        this.reply = reply;
        task.mapsUnderWay++;
        shares.mappings.taken(task.peer);
    }

    @Override
    public void resume() {
        if (answered) {
            return;
        }
        if (!task.alive()) {
            taskEnded("it ended");
            return;
        }
        answered = true;
        task.mapsUnderWay--;
        VmMapping m = new VmMapping(task.nextFreeAddress(object.pageSize), object.size, object);
        task.addMapping(m);
        object.mappings++;
        reply.complete(m);
    }

    @Override
    public void fail(KernelError error) {
        if (answered) {
            return;
        }
        answered = true;
        task.mapsUnderWay--;
        shares.mappings.given(task.peer);
        reply.fail(error);
    }

    /** Whether it answers the caller's {@code call} (its reply, or one wrapping it). */
    boolean answers(Reply<?> call) {
        return reply.answersFor(call);
    }

    /** Its task ended ({@code why}) before the object was ready: ESRCH, nothing mapped. */
    void taskEnded(String why) {
        // the core's task number means nothing to a client (it holds a handle): "the task of this call" (rv59 INFO-5)
        fail(KernelError.of(Errno.ESRCH, "the task of this vm_map was terminated (%s) while its vm_map of '%s' waited "
                + "for the pager's memory_object_ready: nothing was mapped", why, object.name));
    }
}
