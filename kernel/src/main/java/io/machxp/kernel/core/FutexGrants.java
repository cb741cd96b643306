package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.NOPAGE;
import static io.machxp.kernel.futex.FutexWord.NOT_RECOVERABLE;
import static io.machxp.kernel.futex.FutexWord.OWNER_DIED;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PageData;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Futexes between this kernel and the pager: asking for one (memory_object_lock_futex), the
 * pager's grant, busy and relinquish, and giving one back (memory_object_futex_released); also
 * what a broken stream, a reclaim, a lost pager and shutdown do to them. Part of the kernel
 * core's futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  futex_granted    ABSENT           -> the page's word decides: top waiter's TID (PAGER_GRANT,
 *                                       with EOWNERDEAD if the word says an owner died), or kept;
 *                                       without its page: FREE|NOPAGE (grantAwaitsPage) until
 *                                       the page-in, or until a lock that gets the page first
 *                                       finds no waiter left; if the pager refuses the page the
 *                                       waiters fail
 *  futex_busy       TRY out          -> the trylocks answer null; lock_futex if others wait
 *  relinquish(p)    nobody owns it   -> ABSENT, futex_released at once, carrying the page (with
 *                                       piggyback also the pages written under the futex)
 *                   no owner, a dead owner's woken heir not run yet -> above the heir's
 *                                       priority: the heir is passed over, released with
 *                                       OWNER_DIED and asked for again; else pending, given back
 *                                       at the heir's unlock
 *                   held             -> relinquish pending, WAITERS set (the page fetched back
 *                                       writable if it is only readable here), owner boosted to p
 *  stream broken    relinquish pending -> void (the new pager asks again if others wait)
 *  reclaimed        request out      -> lock_futex asked again
 *  pager lost       any              -> waiters fail; ABSENT once nobody here owns it
 *  shutdown         nobody owns it   -> ABSENT, futex_released with its word in its page
 *                   owned by a thread of this kernel that ended (its death waiting for the page
 *                   or for a lease grace's end) -> page writable here: OWNER_DIED written into the
 *                                       word (kept WAITERS), futex_released; else futex_released
 *                                       with owner_died. A TID a task wrote stays (ESRCH next)
 * </pre>
 * In Part II ({@code cacheFutexes == false}) every futex goes back as soon as nobody here owns
 * it. Fairness: a kernel always lets one local waiter have a futex it was granted before giving
 * it back.
 */
final class FutexGrants {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final FutexInheritance inheritance;
    private final PageCache pages;
    private final boolean cacheFutexes;
    private final FutexHolds holds;
    private final ReleasePages releasePages;
    final FutexForwards forwards;
    private final boolean pi;

    FutexGrants(KernelCore core, KernelFutexes futexes, FutexInheritance inheritance, PageCache pages,
            FutexHolds holds, FutexPolicy policy, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.inheritance = inheritance;
        this.pages = pages;
        this.cacheFutexes = policy.cacheFutexes();
        this.holds = holds;
        this.releasePages = new ReleasePages(core, pages, policy);
        this.forwards = new FutexForwards(core, futexes);
        holds.whenEnded(this::onRelinquishFutex);
        this.pi = pi;
    }

    // ---- messages from the pager --------------------------------------------------------------

    void onFutexGranted(FutexEntry e, VmObject o, List<PageData> withPages, long fencingToken, boolean ownerDied) {
        e.granted(fencingToken);
        forwards.granted(e);
        holds.granted(e);
        e.ownerDiedAtGrant = ownerDied;
        List<VmPage> installed = new ArrayList<>();
        for (PageData d : withPages) {
            if (d.getOffset() < 0 || d.getOffset() % o.pageSize != 0 || d.getOffset() >= o.size
                    || d.getData().size() != o.pageSize) {
                core.violation("a page granted with a futex that it cannot use", o.objectId, d.getOffset());
                continue;
            }
            VmPage p = pages.installGranted(o, d);
            if (p != null) {
                installed.add(p);
            }
        }
        e.request = FutexEntry.Request.NONE;
        e.grantedAt = pages.writeSequence();
        if (e.page.access == Access.READ_WRITE) {
            serveGrant(e, PageWords.grantedWord(e));
        } else if (e.waiters.isEmpty()) {
            // Nobody waits: keep it (its word is wherever the page is), or give it back (Part II).
            if (cacheFutexes) {
                e.setState(FREE | NOPAGE);
            } else {
                sendReleased(e);
            }
        } else {
            // A waiter gets it once the page is writable here; until then it counts as held.
            e.setState(FREE | NOPAGE);
            e.grantAwaitsPage = true;
            pages.withAccess(o, e.offset(), Access.READ_WRITE, PageFault.of(() -> serveAwaitedGrant(e),
                    error -> pageRefused(e, error)));
        }
        installed.forEach(pages::resume);
    }

    /**
     * Serves a grant that waited for its page, once: from its page-in, or from a lock that got the
     * page first. To a waiter, else kept or given back. Nothing if it was served or has left.
     */
    void serveAwaitedGrant(FutexEntry e) {
        if (!e.grantAwaitsPage) {
            return;
        }
        long s = e.state();
        assert isNoPage(s) && !isAbsent(s) && owner(s) == 0 : "a grant awaiting its page, not FREE|NOPAGE: " + e;
        e.grantAwaitsPage = false;
        serveGrant(e, PageWords.grantedWord(e));
    }

    /**
     * The page a grant waited for did not come (memory_object_data_error, or the pager is gone):
     * the waiters fail with that error. The futex stays here, FREE with its word in the page,
     * unless the pager wants it back or Part II gives every futex back.
     */
    private void pageRefused(FutexEntry e, KernelError error) {
        if (!e.grantAwaitsPage) {
            return; // that grant has left (or was served): who waits now, waits for the futex
        }
        e.grantAwaitsPage = false;
        futexes.waits.failWaiters(e, error);
        long s = e.state();
        if (core.pagerLost(e.objectId()) || !isNoPage(s) || isAbsent(s) || owner(s) != 0) {
            return; // the pager is gone (forgetFutex cleans up), or the futex has moved on
        }
        if (!cacheFutexes || e.relinquishPending) {
            e.setState(ABSENT);
            sendReleased(e);
        }
    }

    /**
     * A granted futex whose page is writable here, still in a state the fast path cannot take
     * (ABSENT, or FREE | NOPAGE): the word the last owner left in the page decides. To the top
     * local waiter (with EOWNERDEAD if the word says its owner died), else kept or given back.
     */
    private void serveGrant(FutexEntry e, int pageWord) {
        int word = FutexWord.unownedWord(pageWord);
        if (word == NOT_RECOVERABLE) {
            e.setState(NOT_RECOVERABLE);
            futexes.waits.failWaiters(e, futexes.notRecoverable(e));
        } else if (owner(word) != 0) {
            // The word names an owner that is no thread (a task wrote it): every locker gets
            // ESRCH and WAITERS stays in the word, as with Linux's LOCK_PI; nobody can unlock it.
            if (!e.waiters.isEmpty()) {
                word |= WAITERS;
                futexes.waits.failWaiters(e, futexes.noOwner(owner(word), e));
            }
        } else if (futexes.waits.handOff(e, AcquirePath.PAGER_GRANT, word == OWNER_DIED, e.grantHandoff)) {
            answerTrylocks(e); // another got it: a trylock does not wait for it
            inheritance.refresh(e);
            return;
        }
        if (cacheFutexes && !e.relinquishPending) {
            e.setState(word & 0xffffffffL); // Part III: keep it
            return;
        }
        e.setState(ABSENT);
        PageWords.leaveWord(e, word);
        sendReleased(e);
    }

    /** Whether a hold policy keeps {@code e} here although a kernel waits for it (checked at each unlock). */
    boolean holds(FutexEntry e) {
        return holds.keeps(e, e.remotePriority);
    }

    void onFutexBusy(FutexEntry e) {
        e.request = FutexEntry.Request.NONE;
        answerTrylocks(e);
        if (!e.waiters.isEmpty()) {
            askPager(e, FutexEntry.Request.LOCK);
        }
    }

    /** relinquish_futex: another kernel waits, at {@code priority}; sent again when that changes. */
    void onRelinquishFutex(FutexEntry e, int priority) {
        onRelinquishFutex(e, priority, false, -1);
    }

    /**
     * relinquish_futex at {@code priority}; {@code requeued}: the waiter elsewhere is a thread whose
     * priority just changed, which comes after this kernel's waiters of that priority;
     * {@code waitedNanos}: how long it has waited (-1: not known).
     */
    void onRelinquishFutex(FutexEntry e, int priority, boolean requeued, long waitedNanos) {
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return; // crossed with our own release: nothing to give back
            }
            if (settleEndedOwner(e, s)) {
                continue;
            }
            if (e.heir != null) {
                // A dead owner's futex whose woken heir has not run yet (no owner): a waiter
                // elsewhere above the heir takes it first, as a higher lock here would; at the
                // heir's priority or below it waits behind it, given back at the heir's unlock.
                if (pi && priority > e.heir.thread.effectivePriority && !holds.keeps(e, priority)) {
                    futexes.passOverHeir(e);
                    core.env.trace("owner-died-taken-before-heir", 0, futexes.futexName(e));
                    e.releaseHandoff = true; // to the kernel that waits for it
                    releaseToPager(e, OWNER_DIED); // asks again for the heir and the others here
                    inheritance.refresh(e);
                    return;
                }
                remoteWaits(e, priority, requeued, waitedNanos);
                inheritance.refresh(e);
                return;
            }
            if (isLive(s) && unownedHere(s)) {
                if (holds.keeps(e, priority)) {
                    remoteWaits(e, priority, requeued, waitedNanos); // a local thread that takes it meanwhile is boosted
                    inheritance.refresh(e);
                    return; // the policy keeps it a while (a minimum hold): given back when that ends
                }
                if (giveBack(e, s)) {
                    return;
                }
                continue;
            }
            if (isNoPage(s) && unownedHere(s)) {
                if (e.waiters.isEmpty()) {
                    if (holds.keeps(e, priority)) {
                        remoteWaits(e, priority, requeued, waitedNanos); // pending until the hold ends
                        return;
                    }
                    e.setState(ABSENT); // its word is already where the page is
                    sendReleased(e);
                } else {
                    remoteWaits(e, priority, requeued, waitedNanos); // one waiter gets it first, when the page is here
                }
                return;
            }
            // A local thread holds it: give it back when that thread unlocks (Part IV), and
            // meanwhile let the owner run at the priority waiting elsewhere.
            remoteWaits(e, priority, requeued, waitedNanos);
            if (hasWaiters(s)) {
                inheritance.refresh(e);
                return;
            }
            if (e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                if (isNoPage(s)) {
                    fetchWordPage(e); // the owner's unlock needs the page anyway
                }
                inheritance.refresh(e);
                return;
            }
        }
    }

    /**
     * relinquish_futex with try: another kernel's trylock, and no kernel waits. Given back at once
     * if no thread here owns the futex or waits for it (the pager grants it to the trylock);
     * otherwise kept as it is, with FUTEX_WAITERS set in its word as Linux's TRYLOCK_PI leaves it
     * on a held futex, and memory_object_futex_held answers. Nothing is pending afterwards: the
     * owner's unlock keeps the futex here (WAITERS only sends it through the core, which frees it).
     */
    void onRelinquishTry(FutexEntry e) {
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return; // crossed with our own release: the pager grants the trylock
            }
            if (settleEndedOwner(e, s)) {
                continue;
            }
            boolean unused = unownedHere(s) && e.waiters.isEmpty() && !e.grantAwaitsPage;
            if (unused && isLive(s)) {
                if (giveBack(e, s)) {
                    return;
                }
                continue;
            }
            if (unused && isNoPage(s)) {
                e.setState(ABSENT); // its word is already where the page is
                sendReleased(e);
                return;
            }
            if (!unownedHere(s) && !hasWaiters(s)) {
                if (!e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                    continue; // unlocked on the fast path meanwhile: look again
                }
                if (isNoPage(s)) {
                    fetchWordPage(e);
                }
            }
            core.send(KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                    .setObjectId(e.objectId()).setOffset(e.offset()).setFencingToken(e.fencingToken)).build());
            return;
        }
    }

    /**
     * A kernel elsewhere waits, at {@code priority}: its place among this kernel's waiters of the same priority
     * is now (a higher priority is a new waiter, and so is a waiter {@code requeued} after its priority
     * changed; the same or a lower one otherwise keeps the place of the wait it continues). When
     * the pager says how long the waiter elsewhere has waited ({@code waitedNanos} >= 0), its
     * place is where that wait began instead, as Linux orders equals by when each blocked.
     */
    private void remoteWaits(FutexEntry e, int priority, boolean requeued, long waitedNanos) {
        if (waitedNanos >= 0) {
            e.remoteSinceKnown = true;
            e.remoteSinceNanos = core.env.nanoTime() - waitedNanos;
        } else if (!e.relinquishPending || priority > e.remotePriority || requeued) {
            e.remoteSinceKnown = false;
            e.remoteSince = e.waiters.mark();
        }
        e.relinquishPending = true;
        e.remotePriority = priority;
    }

    /** The word every kernel reads is in a page not writable here: fetch it writable, so WAITERS reaches it. */
    private void fetchWordPage(FutexEntry e) {
        pages.withAccess(core.object(e.objectId()), e.offset(), Access.READ_WRITE,
                PageFault.of(() -> { }, error -> { }));
    }

    /**
     * Nobody here can unlock the futex: it is free, or its word names no thread (a task wrote it;
     * it leaves with the word as it is, and lockers anywhere get ESRCH).
     */
    private boolean unownedHere(long s) {
        int o = owner(s);
        return o == 0 || core.livingThread(o) == null && !core.endedHere(o);
    }

    /**
     * Its owner is a thread of this kernel that has ended (its fast-path lock raced its death):
     * OWNER_DIED, passed on as for any death. True if the state changed.
     */
    private boolean settleEndedOwner(FutexEntry e, long s) {
        int o = owner(s);
        if (!isLive(s) || o == 0 || core.livingThread(o) != null || !core.endedHere(o)) {
            return false;
        }
        futexes.ownerEnded(e, o);
        return e.state() != s;
    }

    /**
     * The pager is gone: waiters fail, and the futex is forgotten, held or not (the pager passes
     * a held one on with OWNER_DIED). Its owner's unlock finds the pager's loss, not the futex: every
     * call on a lost pager's object fails with EIO before it looks ({@code VmCalls#resolve}); the
     * page goes with it ({@link PageCache#forget}).
     */
    void forgetFutex(FutexEntry e, KernelError error) {
        e.grantAwaitsPage = false;
        futexes.waits.failWaiters(e, error);
        e.request = FutexEntry.Request.NONE;
        e.relinquishPending = false;
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return;
            }
            if (e.compareAndSetState(s, ABSENT)) {
                inheritance.refresh(e);
                return;
            }
        }
    }

    /**
     * The stream to the pager broke and the kernel will reclaim what it holds from a pager that may have
     * restarted: a relinquish (or forward) the old pager asked for is void (the new one asks again if others
     * wait), so an owner's unlock keeps the futex here. Local waiters keep waiting; asked again later.
     */
    void streamBroken(FutexEntry e) {
        forwards.streamBroken(e);
        if (e.relinquishPending) {
            e.relinquishPending = false;
            e.remotePriority = 0;
            futexes.clearWaitersIfNoneLeft(e);
            inheritance.refresh(e);
        }
    }

    /** Part II after a reclaim: a futex kept while disconnected goes back now, or at its owner's unlock. */
    void giveBackKept(FutexEntry e) {
        while (true) {
            long s = e.state();
            if (isAbsent(s) || e.grantAwaitsPage || !e.waiters.isEmpty()) {
                return;
            }
            if (!unownedHere(s)) {
                if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                    return;
                }
            } else if (isLive(s)) {
                if (giveBack(e, s)) {
                    return;
                }
            } else {
                e.setState(ABSENT); // its word is already where the page is
                sendReleased(e);
                return;
            }
        }
    }

    /** After a reclaim: the lock_futex this kernel was waiting for an answer to, asked again. */
    void askAgain(FutexEntry e) {
        if (e.request != FutexEntry.Request.NONE) {
            askPager(e, e.request);
        }
    }

    // ---- giving back and asking for --------------------------------------------------------

    /**
     * Gives the futex back to the pager, leaving {@code word} in its page (FREE, OWNER_DIED or
     * NOT_RECOVERABLE), and asks again if local threads still wait. Called from a state the fast
     * path cannot act on.
     */
    void releaseToPager(FutexEntry e, long word) {
        // Live, or (a dead owner's futex with a woken heir) its word already in the page elsewhere.
        assert (isLive(e.state()) && e.state() != FREE) || (isNoPage(e.state()) && !isAbsent(e.state())
                && owner(e.state()) == 0) : "released racing the fast path: " + e;
        e.setState(ABSENT);
        PageWords.leaveWord(e, word);
        boolean again = !e.waiters.isEmpty();
        if (again) {
            e.request = FutexEntry.Request.LOCK; // asked again inside futex_released
            holds.asked(e);
            e.requestedPriority = pi ? e.waiters.topPriority() : 0;
        }
        sendReleased(e, again);
        answerTrylocks(e);
    }

    /** Trylocks still queued when the futex went to another thread or back to the pager: busy. */
    private void answerTrylocks(FutexEntry e) {
        List<FutexWaiter> tries = new ArrayList<>();
        for (Iterator<FutexWaiter> it = e.waiters.iterator(); it.hasNext(); ) {
            FutexWaiter w = it.next();
            if (w.trylock) {
                it.remove();
                tries.add(w);
            }
        }
        if (!tries.isEmpty()) {
            futexes.clearWaitersIfNoneLeft(e);
            tries.forEach(w -> w.finish(null));
        }
    }

    /**
     * At shutdown, once its threads have ended: a futex held here goes back to the pager with its
     * word in its page, and with owner_died if its grant said so and the word never got it (its
     * page never came). A futex a thread of this kernel that ended still owns (core.endedHere, the
     * death the system saw, as FutexLocks.lock judges it) is one whose death is still waiting for
     * its page (elsewhere: another kernel read or wrote it) or for a lease grace's end
     * (RobustFutexes.ownerDied). With its page writable here the death goes into the word as
     * Linux's handle_futex_death writes it, (word & WAITERS) | OWNER_DIED; with the page elsewhere
     * it goes back with owner_died, which the pager's next grant carries into the word
     * (PageWords.grantedWord), since nothing here will write it now. Any other TID (a task wrote
     * it: another kernel's thread, or none) stays in the word, and its next locker gets ESRCH.
     * Tasks may CAS the word in shared memory meanwhile: each pass decides again.
     */
    void giveBackAtShutdown(FutexEntry e) {
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return;
            }
            boolean diedHere = owner(s) != 0 && core.endedHere(owner(s));
            if (diedHere && isLive(s) && e.page.access == Access.READ_WRITE) {
                if (e.compareAndSetState(s, ABSENT)) {
                    PageWords.recordDeath(e, s);
                    sendReleased(e);
                    return;
                }
                continue;
            }
            boolean grantSaid = e.ownerDiedAtGrant;
            e.ownerDiedAtGrant = grantSaid || diedHere;
            if (giveBack(e, s)) {
                return;
            }
            e.ownerDiedAtGrant = grantSaid; // a task's CAS came first: look again
        }
    }

    /**
     * A futex nobody here owns leaves for the pager: ABSENT, its word into its page (if the page
     * is writable here), futex_released. False if the fast path took it first.
     */
    private boolean giveBack(FutexEntry e, long s) {
        if (!e.compareAndSetState(s, ABSENT)) {
            return false;
        }
        PageWords.leaveWord(e, s);
        sendReleased(e);
        return true;
    }

    private void sendReleased(FutexEntry e) {
        sendReleased(e, false);
    }
    /** futex_released; with {@code again}, asking for the futex again at e.requestedPriority. */
    private void sendReleased(FutexEntry e, boolean again) {
        e.grantAwaitsPage = false;
        e.relinquishPending = false;
        e.remotePriority = 0;
        e.remoteSinceKnown = false;
        MemoryObjectFutexReleased.Builder released = MemoryObjectFutexReleased.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setFencingToken(e.fencingToken)
                .setOwnerDied(e.ownerDiedAtGrant) // the word never had it recorded: the next grant will
                .setHandoff(e.releaseHandoff).setRequestAgain(again).setRequestPriority(again ? e.requestedPriority : 0);
        long now = core.env.nanoTime();
        long waited = again ? e.waiters.topWaitedNanos(pi, now) : -1;
        if (waited >= 0) {
            released.setRequestWaitedNanos(waited);
            e.requestedSince = now - waited;
        }
        e.releaseHandoff = false;
        e.ownerDiedAtGrant = false;
        releasePages.leave(e, released);
        forwards.forward(e, released); // direct handoff: a copy to the kernel the pager named, if it did
        core.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(released).build());
    }

    void askPager(FutexEntry e, FutexEntry.Request kind) {
        e.request = kind;
        holds.asked(e);
        e.requestedPriority = pi ? e.waiters.topPriority() : 0;
        MemoryObjectLockFutex.Builder ask = MemoryObjectLockFutex.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setTry(kind == FutexEntry.Request.TRY)
                .setPriority(e.requestedPriority);
        long now = core.env.nanoTime();
        long waited = kind == FutexEntry.Request.LOCK ? e.waiters.topWaitedNanos(pi, now) : -1;
        if (waited >= 0) {
            ask.setWaitedNanos(waited);
            e.requestedSince = now - waited;
        }
        core.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(ask).build());
    }
}
