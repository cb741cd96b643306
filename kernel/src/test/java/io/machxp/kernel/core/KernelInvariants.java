package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What must hold of a {@link KernelCore} whatever its pager and tasks do; checked after every
 * step by {@link FuzzedPager}. A broken one throws {@link AssertionError}.
 *
 * <ul>
 *   <li>Replies: every request is answered at most once (a second answer fails at once), and by
 *       the end - the pager lost, time run out, every task terminated - exactly once.
 *   <li>Futexes: a lock_futex is outstanding only for a futex the kernel does not hold; a live
 *       futex (its word in its state) has its page writable here; every local waiter is still
 *       waiting, for that futex, on a living thread, and every waiting thread is in its queue.
 *   <li>Threads: blocked exactly while a futex wait, a compute or a sleep owes them an answer.
 *   <li>lock_request: a well-formed one with reply for a page of a ready object is acknowledged
 *       with exactly one lock_completed (also when the kernel does not hold the page); nothing
 *       else is.
 * </ul>
 */
final class KernelInvariants {
    /** A reply that counts its answers. */
    private static final class Tracked<T> implements Reply<T> {
        final String call;
        final Consumer<T> onValue;
        int answers;

        Tracked(String call, Consumer<T> onValue) {
            this.call = call;
            this.onValue = onValue;
        }

        @Override
        public void complete(T value) {
            answered();
            onValue.accept(value);
        }

        @Override
        public void fail(KernelError error) {
            answered();
        }

        private void answered() {
            if (++answers > 1) {
                throw new AssertionError(call + " was answered twice");
            }
        }
    }

    private final KernelCore core;
    private final List<Tracked<?>> replies = new ArrayList<>();
    private int completionsExpected;
    private int completionsSent;

    KernelInvariants(KernelCore core) {
        this.core = core;
    }

    <T> Reply<T> track(String call, Consumer<T> onValue) {
        Tracked<T> r = new Tracked<>(call, onValue);
        replies.add(r);
        return r;
    }

    /** Before a message to the kernel: whether it owes a lock_completed for it. */
    void expectCompletion(PagerToKernel m) {
        if (!m.hasMemoryObjectLockRequest() || !m.getMemoryObjectLockRequest().getReply() || core.sessions.pagerLost(m.getMemoryObjectLockRequest().getObjectId())) {
            return;
        }
        var r = m.getMemoryObjectLockRequest();
        VmObject o = core.objects.object(r.getObjectId());
        if (o != null && o.state == VmObject.State.READY && r.getOffset() >= 0 && r.getOffset() < o.size
                && r.getOffset() % core.pageSize() == 0 && r.getLockValue() != VmProt.UNRECOGNIZED
                && r.getShouldReturn() != ReturnPolicy.UNRECOGNIZED) {
            completionsExpected++;
        } else if (o == null || (o.state == VmObject.State.READY && Long.compareUnsigned(r.getOffset(), o.size) >= 0)) {
            completionsExpected++; // nothing held there: answered all the same (xp-spec 3.6)
        }
    }

    /** A message the kernel sent. */
    void heard(KernelToPager m) {
        if (m.hasMemoryObjectLockCompleted()) {
            completionsSent++;
        }
    }

    /** After every step, with the ids of the tasks created so far. */
    void check(List<Long> tasks) {
        for (long id : tasks) {
            MachTask task = core.task(id);
            if (task != null) {
                task.threads().forEach(this::checkThread);
            }
        }
        check();
    }

    /** A thread is blocked exactly while a futex wait, a compute or a sleep owes it an answer. */
    private void checkThread(MachThread t) {
        if ((t.blockedIn != null) != (t.waiter != null || t.blockedReply != null)) {
            throw new AssertionError(t + " is blocked in " + t.blockedIn + " with waiter " + t.waiter
                    + " and pending reply " + t.blockedReply);
        }
        FutexWaiter w = t.waiter;
        if (w != null && (w.done() || (w.entry != null && !contains(w.entry, w)))) {
            throw new AssertionError(t + " waits for " + w.entry + (w.done() ? ", answered already" : ", not in its queue"));
        }
    }

    private static boolean contains(FutexEntry e, FutexWaiter w) {
        for (FutexWaiter queued : e.waiters) {
            if (queued == w) {
                return true;
            }
        }
        return false;
    }

    private void check() {
        if (completionsSent != completionsExpected) {
            throw new AssertionError("the kernel sent " + completionsSent + " lock_completed for "
                    + completionsExpected + " lock_request with reply");
        }
        completionsSent = 0;
        completionsExpected = 0;
        core.forEachFutex(this::checkFutex);
    }

    private void checkFutex(FutexEntry e) {
        long s = e.state();
        if (e.request != FutexEntry.Request.NONE && !isAbsent(s)) {
            throw new AssertionError(e + " is held here with a lock_futex outstanding");
        }
        if (isLive(s) && e.page.access != VmPage.Access.READ_WRITE) {
            throw new AssertionError(e + " is live while its page is " + e.page);
        }
        for (FutexWaiter w : e.waiters) {
            if (w.done() || w.entry != e || w.thread.waiter != w || !w.thread.alive) {
                throw new AssertionError(e + " has a waiter that no longer waits for it: thread " + w.thread.tid
                        + (w.done() ? " (answered)" : "") + (w.thread.alive ? "" : " (ended)"));
            }
        }
    }

    /** At the end: every request has had its answer. */
    void allAnswered() {
        for (Tracked<?> r : replies) {
            if (r.answers != 1) {
                throw new AssertionError(r.call + " was never answered, though the pager is gone and every task ended");
            }
        }
    }
}
