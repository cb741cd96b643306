package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.OWNER_DIED;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.isOwnerDied;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Robust futexes: what happens to the futexes of a thread that ends while it owns them. Part of
 * the kernel core's futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  owner ends       TID              -> as unlock, with OWNER_DIED passed to the next owner, or
 *                                       OWNER_DIED left in the word (robust futexes); the next
 *                                       owner is woken and takes it when it runs (the highest
 *                                       of the waiters one death woke runs first):
 *                                       OWNER_DIED|WAITERS meanwhile, taken first by a higher
 *                                       lock or trylock, or a higher waiter elsewhere
 *                                       (FutexHeirs.wakeHeir); several futexes of one death
 *                                       are passed on newest wait first (FutexEntry.piStateSince:
 *                                       Linux's pi_state_list order), the order equal heirs run in
 *  vm_futex_consistent TID|OWNER_DIED -> TID
 *  grant undone     TID|OWNER_DIED   -> passed on as the owner's death above: the thread's
 *                                       caller gave up as the owner_died grant came, so nobody
 *                                       was told EOWNERDEAD ({@link #grantUndone})
 * </pre>
 * The next owner gets EOWNERDEAD; if it unlocks without vm_futex_consistent, the futex becomes
 * NOT_RECOVERABLE (in {@link KernelFutexes#unlock}). A death on another kernel reaches this one
 * in the futex's page, or with the pager's grant (owner_died).
 */
final class RobustFutexes {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final FutexInheritance inheritance;
    private final KernelEnv env;
    private final PageCache pages;

    RobustFutexes(KernelCore core, KernelFutexes futexes, FutexInheritance inheritance, KernelEnv env,
            PageCache pages) {
        this.core = core;
        this.futexes = futexes;
        this.inheritance = inheritance;
        this.env = env;
        this.pages = pages;
    }

    /** vm_futex_consistent: the owner repaired what the dead owner left; OWNER_DIED goes. */
    void markConsistent(FutexEntry e, int tid, long address, Reply<Void> reply) {
        long s = e == null ? ABSENT : e.state();
        if (isAbsent(s) || owner(s) != tid || !isOwnerDied(s)) {
            reply.fail(KernelError.of(Errno.EINVAL, "thread %d does not own the futex at 0x%x after an owner's death; "
                    + "vm_futex_consistent is for the thread whose lock answered owner_died", tid, address));
            return;
        }
        if (isNoPage(s)) {
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> markConsistent(e, tid, address, reply), reply::fail));
            return;
        }
        e.setState(s & ~(OWNER_DIED & 0xffffffffL));
        reply.complete(null);
    }

    /**
     * Thread {@code t} ended (terminated, its task ended, its client went away): it stops waiting,
     * and every futex it owns passes on with OWNER_DIED - to the next local waiter, to another
     * kernel through the pager (the word travels in the page), or left free with OWNER_DIED.
     */
    void threadEnded(MachThread t, KernelError error) {
        if (t.waiter != null) {
            futexes.abandon(t.waiter, error);
        }
        List<FutexEntry> owned = new ArrayList<>();
        core.forEachFutex(e -> {
            if (!isAbsent(e.state()) && owner(e.state()) == t.tid) {
                owned.add(e);
            }
        });
        // Newest wait first, as Linux's exit walks the dead owner's pi_state_list from its head
        // (exit_pi_state_list): the heirs it wakes run in that order among equal priorities, and
        // across kernels the releases go to the pager, and its grants to their kernel, in it too.
        owned.sort(Comparator.comparingLong((FutexEntry e) -> e.piStateSince).reversed());
        owned.forEach(e -> ownerDied(e, t.tid));
        for (FutexEntry e : List.copyOf(t.boostedBy)) {
            e.boosting = null; // its owner-death waits for the page: nobody to boost meanwhile
        }
        t.boostedBy.clear();
    }

    void ownerDied(FutexEntry e, int tid) {
        passOnAsDeath(e, tid, "owner-died");
    }

    /**
     * A grant with OWNER_DIED that its caller never learnt of (it gave up as the futex came): no
     * thread was told EOWNERDEAD, so this is no unlock by an owner that saw it (which would make
     * the futex NOT_RECOVERABLE). As when the thread that took it dies at once, as a Linux
     * robust-list walk does: the futex passes on with OWNER_DIED - the next owner here gets
     * EOWNERDEAD, or the pager the word with OWNER_DIED, or it stays free with OWNER_DIED - and
     * the boost the thread had as its owner goes.
     */
    void grantUndone(FutexEntry e, int tid) {
        passOnAsDeath(e, tid, "owner-died-grant-undone");
    }

    private void passOnAsDeath(FutexEntry e, int tid, String trace) {
        long s = e.state();
        if (isAbsent(s) || owner(s) != tid) {
            return; // passed on meanwhile
        }
        KernelSession session = core.sessions.forObject(e.objectId());
        if (session.inGrace()) {
            // No local handoff on a lease in doubt: the dead owner's TID stays in the word (the
            // fast path is closed, lock calls are parked) until the grace ends (LeaseGrace).
            core.sessions.parked.park(session, null, () -> passOnAsDeath(e, tid, trace));
            return;
        }
        if (isNoPage(s)) {
            // A refused page (memory_object_data_error from a live pager, or the pager lost) fails
            // the waiters here as it fails any lock's page-in: nobody could take the futex without
            // its word. A waiter elsewhere waits on at the pager, and the page is asked for
            // again with a backoff while it waits (FutexRewriteRetry).
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> passOnAsDeath(e, tid, trace), error -> {
                        futexes.waits.failWaiters(e, error);
                        inheritance.refresh(e);
                        // A waiter elsewhere waits for the word without the dead TID: asked again.
                        futexes.rewriteRetry.refused(e, () -> isLiveOwner(e, tid),
                                () -> passOnAsDeath(e, tid, trace));
                    }));
            return;
        }
        // Take it from the fast path first: a plain TID could still be unlocked by a late call.
        if (!e.compareAndSetState(s, FutexWord.deadWord(s) & 0xffffffffL)) {
            return; // unlocked on the fast path after all
        }
        env.trace(trace, tid, futexes.futexName(e));
        futexes.passOn(e, core.plants.ownerDiedPassedOn(true));
        inheritance.refresh(e);
    }

    /** The word of {@code e} still names the dead owner {@code tid}: its pass-on is still to do. */
    private static boolean isLiveOwner(FutexEntry e, int tid) {
        long s = e.state();
        return !isAbsent(s) && owner(s) == tid;
    }
}
