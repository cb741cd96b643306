package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;

/**
 * The pager asks for a futex back (memory_object_relinquish_futex): another kernel waits for it,
 * at a priority this kernel's owner is boosted to, or (with try) another kernel's trylock wants
 * it. Part of the kernel core's futexes ({@link KernelFutexes}): core thread only; what leaves
 * for the pager goes through {@link FutexToPager}.
 *
 * <h2>Overview</h2>
 * <pre>
 *  relinquish(p)    nobody owns it   -> ABSENT, futex_released at once, carrying the page (with
 *                                       piggyback also the pages written under the futex)
 *                   no owner, a woken heir not run yet (a dead owner's, or an unlock's with
 *                                       its TID in the word) -> above the heir's priority: the
 *                                       heir is passed over, released with OWNER_DIED (free
 *                                       after an unlock) and asked for again; else pending,
 *                                       given back at the heir's unlock
 *                   its word elsewhere still naming an unlock's heir that left before it ran
 *                                    -> pending, the page fetched: its return passes the futex
 *                                       on as at the unlock (FutexHeirs.passOnStaleHeir), to
 *                                       this waiter if it comes first
 *                   its word elsewhere naming a thread here that ended (its death's pass-on
 *                                       refused the page) -> pending; the pass-on faults the
 *                                       page in, asked again with a backoff while refused
 *                   held             -> relinquish pending, WAITERS set (the page fetched back
 *                                       writable if it is only readable here), owner boosted to p;
 *                                       a page that comes back with the word written over elsewhere
 *                                       before the wait (no owner here now) -> given back at once,
 *                                       before any fault waiting for that page resumes; a thread
 *                                       here that took the free word meanwhile -> WAITERS
 *                   a hold policy keeps it -> pending, given back when the hold ends
 *                                       ({@link FutexHolds})
 *  relinquish(try)  nobody owns it, nobody waits -> ABSENT, futex_released
 *                   held, its page left unwaited, a newer copy readable here shows the word
 *                                       written over elsewhere -> ABSENT, futex_released (the
 *                                       trylock gets it)
 *                   held, its page left unwaited, no copy here -> the answer waits for the
 *                                       page (fetched writable), then is made from its word: a word
 *                                       written over elsewhere (0) -> futex_released (the trylock
 *                                       gets it, as Linux's TRYLOCK_PI); still owned -> as below.
 *                                       The wait is bounded (half a lease, a core timer, inside the
 *                                       pager's answer deadline of at least two leases): a page not
 *                                       back by then, or refused, or a lost pager -> answered from
 *                                       the held word, as below (the fetch goes on, unanswered);
 *                                       a later try while that fetch, past its bound, is still out
 *                                       -> answered from the held word at once (no second wait)
 *                   its word elsewhere still naming an unlock's heir that left -> the answer
 *                                       waits for the page as above; its return passes the
 *                                       futex on as at the unlock first
 *                   held             -> WAITERS set, futex_held; nothing pending
 *                   ABSENT           -> nothing (crossed with our own release)
 * </pre>
 * An owner that is a thread of this kernel that ended (its fast-path lock raced its death) is
 * settled first: OWNER_DIED, passed on as for any death, then the futex is looked at again.
 * While a relinquish is pending, the waiter elsewhere has its place among this kernel's waiters
 * of the same priority ({@code remoteSince}), so that an unlock hands the futex on in Linux's order.
 */
final class FutexRelinquish {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final FutexInheritance inheritance;
    private final PageCache pages;
    private final FutexHolds holds;
    private final FutexToPager toPager;
    private final boolean pi;

    FutexRelinquish(KernelCore core, KernelFutexes futexes, FutexInheritance inheritance, PageCache pages,
            FutexHolds holds, FutexToPager toPager, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.inheritance = inheritance;
        this.pages = pages;
        this.holds = holds;
        this.toPager = toPager;
        holds.whenEnded(this::onRelinquishFutex);
        pages.whenWritable(this::onPageWritable);
        this.pi = pi;
    }

    /** Whether a hold policy keeps {@code e} here although a kernel waits for it (checked at each unlock). */
    boolean holds(FutexEntry e) {
        return holds.keeps(e, e.remotePriority);
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
                // A futex whose woken heir (after a death or an unlock) has not run yet (no
                // owner): a waiter elsewhere above the heir takes it first, as a higher lock here
                // would; at the heir's priority or below it waits behind it, given back at the
                // heir's unlock.
                if (pi && priority > e.heir.thread.effectivePriority && !holds.keeps(e, priority)) {
                    boolean died = e.heirDied;
                    if (!died && isNoPage(s)) {
                        // An unlock's heir whose page left: its TID must not leave in the word.
                        remoteWaits(e, priority, requeued, waitedNanos);
                        pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                                PageFault.of(() -> onRelinquishFutex(e, priority, requeued, waitedNanos),
                                        error -> { })); // refused: pending, given back at the heir's unlock
                        return;
                    }
                    futexes.passOverHeir(e);
                    core.env.trace(died ? "owner-died-taken-before-heir" : "unlock-taken-before-heir", 0,
                            futexes.futexName(e));
                    e.releaseHandoff = true; // to the kernel that waits for it
                    toPager.releaseToPager(e, died ? FutexWord.deadWord(s) & 0xffffffffL : FREE); // asks again for the heir and the others here
                    inheritance.refresh(e);
                    return;
                }
                remoteWaits(e, priority, requeued, waitedNanos);
                inheritance.refresh(e);
                return;
            }
            if (FutexHeirs.staleHeir(e, s)) {
                // Its word, elsewhere, still names an unlock's heir that left before it ran: nobody
                // owns it, but the word changes only with the page. Fetched: its return passes the
                // futex on as at the unlock (onPageWritable), to this waiter if it comes first.
                // Refused: pending, and the fetch is retried with a backoff while it waits
                // (FutexRewriteRetry), or a local page-in does it first.
                remoteWaits(e, priority, requeued, waitedNanos);
                fetchWordPage(e);
                inheritance.refresh(e);
                return;
            }
            if (isLive(s) && futexes.unownedHere(s)) {
                if (holds.keeps(e, priority)) {
                    remoteWaits(e, priority, requeued, waitedNanos); // a local thread that takes it meanwhile is boosted
                    inheritance.refresh(e);
                    return; // the policy keeps it a while (a minimum hold): given back when that ends
                }
                if (toPager.giveBack(e, s)) {
                    return;
                }
                continue;
            }
            if (isNoPage(s) && futexes.unownedHere(s)) {
                if (e.waiters.isEmpty()) {
                    if (holds.keeps(e, priority)) {
                        remoteWaits(e, priority, requeued, waitedNanos); // pending until the hold ends
                        return;
                    }
                    e.setState(ABSENT); // its word is already where the page is
                    toPager.sendReleased(e);
                } else {
                    remoteWaits(e, priority, requeued, waitedNanos); // one waiter gets it first, when the page is here
                }
                return;
            }
            // A local thread holds it: give it back when that thread unlocks (Part IV), and
            // meanwhile let the owner run at the priority waiting elsewhere.
            remoteWaits(e, priority, requeued, waitedNanos);
            if (isNoPage(s) && ownerEndedHere(s)) {
                // Its owner ended and the pass-on waits for the page (refused at the death, with
                // nobody waiting then): nobody here will unlock it, so the death's pass-on asks for
                // the page now, and again with a backoff while it is refused (FutexRewriteRetry).
                futexes.ownerEnded(e, owner(s));
                inheritance.refresh(e);
                return;
            }
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
        onRelinquishTry(e, 0);
    }

    /**
     * relinquish_futex with try at {@code priority}, the trylock's (0: not known). A futex whose
     * woken heir has not run yet (no owner: after a death, or an unlock with the heir's TID in the
     * word) goes to a trylock strictly above the heir, as Linux's TRYLOCK_PI steals the rt_mutex:
     * released asking again inside the release (request_again at the heir's priority) for the heir
     * and the others here, who wait on; the pager grants the trylock first, as the answer to its
     * try (xp-spec 8.3). Otherwise answered from the word, as below.
     */
    void onRelinquishTry(FutexEntry e, int priority) {
        long s = e.state();
        if (pi && e.heir != null && priority > e.heir.thread.effectivePriority && !isAbsent(s)
                && (e.heirDied || !isNoPage(s))) { // an unlock's heir's TID must not leave in a page elsewhere
            boolean died = e.heirDied;
            futexes.passOverHeir(e);
            core.env.trace(died ? "owner-died-taken-before-heir" : "unlock-taken-before-heir", 0, futexes.futexName(e));
            toPager.releaseToTry(e, died ? FutexWord.deadWord(s) & 0xffffffffL : FREE);
            inheritance.refresh(e);
            return;
        }
        answerTryFromWord(e, !e.tryPageOverdue); // an earlier try's fetch, past its bound: no new wait
    }

    /**
     * The answer to a relinquish with try from the word as it is here; {@code mayFetch}: false once
     * the wait for the page ended without it (its bound fired, or the page was refused), so that
     * the held word answers (busy, WAITERS set) and no second fetch goes out for the word's page.
     */
    private void answerTryFromWord(FutexEntry e, boolean mayFetch) {
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return; // crossed with our own release: the pager grants the trylock
            }
            if (settleEndedOwner(e, s)) {
                continue;
            }
            if (!futexes.unownedHere(s) && isNoPage(s) && e.pageLeftUnwaited && e.waiters.isEmpty()
                    && !e.relinquishPending && writtenInReadableCopy(e, s)) {
                // Its page left while nobody waited, and the copy readable here (the newest: a
                // reader holds the latest version) shows the word written over elsewhere (0, then
                // this trylock, as on Linux): nobody here owns it, given back to the trylock.
                // Without a copy here, the page is fetched first (below).
                e.setState(ABSENT); // its word is already where the page is
                toPager.sendReleased(e);
                return;
            }
            if (mayFetch && isNoPage(s) && (FutexHeirs.staleHeir(e, s) || (!futexes.unownedHere(s)
                    && e.pageLeftUnwaited && e.waiters.isEmpty() && !e.relinquishPending && !e.page.resident()))) {
                // Its page left while nobody waited and no copy is here: a task elsewhere may have
                // written the word over (0: Linux's TRYLOCK_PI then takes it). The answer waits
                // for the page, as Linux's trylock faults its word's page in; never a place in the
                // queue, and bounded here: a silent writer of the page is recalled only at the
                // pager's answer deadline plus a lease, past this kernel's own deadline (4.8).
                // So does a word that still names an unlock's heir that left before it ran: nobody
                // owns the futex, and the page's return passes it on (onPageWritable) before the
                // answer is made from the word.
                if (!e.tryAwaitsPage) {
                    e.tryAwaitsPage = true;
                    fetchPageForTry(e);
                }
                return;
            }
            boolean unused = futexes.unownedHere(s) && e.waiters.isEmpty() && !e.grantAwaitsPage;
            if (unused && isLive(s)) {
                if (toPager.giveBack(e, s)) {
                    return;
                }
                continue;
            }
            if (unused && isNoPage(s)) {
                e.setState(ABSENT); // its word is already where the page is
                toPager.sendReleased(e);
                return;
            }
            if (!futexes.unownedHere(s) && !hasWaiters(s)) {
                if (!e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                    continue; // unlocked on the fast path meanwhile: look again
                }
                if (isNoPage(s) && mayFetch) {
                    fetchWordPage(e); // (without mayFetch the try's own fetch is already out, or refused)
                }
            }
            toPager.sendHeld(e);
            return;
        }
    }

    /**
     * The page of {@code e} (held here, {@code s} NOPAGE) is resident and readable here with data
     * another kernel wrote since this kernel had it writable, and its word differs from the held one
     * in more than WAITERS: a task elsewhere wrote the word over ({@code PageWords.heldWord}).
     */
    private static boolean writtenInReadableCopy(FutexEntry e, long s) {
        VmPage p = e.page;
        if (!p.resident() || p.access != Access.READ || !p.newerElsewhere) {
            return false;
        }
        int inPage = PageWords.wordInPage(e);
        return ((inPage ^ (int) s) & ~WAITERS) != 0;
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
        if ((priority > 0 || !pi) && !futexes.waits.anyoneWaits(e)) {
            futexes.waits.piStateJoinsOwner(e); // the first waiter is elsewhere
        }
        e.relinquishPending = true;
        e.remoteBoostKept = false; // the new pager's relinquish takes over a boost kept over a broken stream
        e.remotePriority = priority;
    }

    /**
     * The word every kernel reads is in a page not writable here: fetch it writable, so WAITERS
     * reaches it. Its return is served by onPageWritable. Refused while the word names a stale
     * heir: nobody here will fault it in for the waiter elsewhere, so it is retried
     * (FutexRewriteRetry); otherwise the owner's unlock faults it in.
     */
    private void fetchWordPage(FutexEntry e) {
        pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                PageFault.of(() -> { }, error -> {
                    int stale = e.staleHeirTid;
                    if (stale != 0) {
                        futexes.rewriteRetry.refused(e, () -> e.staleHeirTid == stale, () -> { });
                    }
                }));
    }

    /**
     * The page of a futex whose relinquish with try waits for it ({@link FutexEntry#tryAwaitsPage}):
     * its return is served by {@link #onPageWritable}. The wait has its own bound, half the
     * session's lease: the pager's answer deadline D (4.8) is at least two leases, and a kernel
     * elsewhere that holds the page writable and never answers its lock_request is ended only at D
     * and its page reverts a lease later, so an unbounded wait would get this kernel ended at D for
     * that kernel's silence. When the bound fires, or the page cannot come (the pager refused it;
     * a lost pager forgets the futex, {@link FutexSessionEnds#forgetFutex}), the held word answers
     * busy as before the fetch (WAITERS set); the fetch itself goes on, its page served as any.
     * Without a lease there is no answer deadline (4.8) and no bound.
     */
    private void fetchPageForTry(FutexEntry e) {
        long lease = core.sessions.forObject(e.objectId()).leaseNanos();
        if (lease > 0) {
            e.tryPageTimer = core.env.schedule(lease / 2, () -> {
                e.tryPageTimer = null;
                if (e.tryAwaitsPage) {
                    e.tryPageOverdue = true; // until the page comes or its fetch fails
                }
                pageNotComing(e, "try-page-wait-bound");
            });
        }
        pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                PageFault.of(() -> answerTry(e), error -> {
                    e.tryPageOverdue = false; // the fetch is over: a later try may ask again
                    pageNotComing(e, "try-page-refused");
                }));
    }

    /** The wait of a relinquish with try for its page ended without the page: answered from the held word. */
    private void pageNotComing(FutexEntry e, String why) {
        if (!e.tryAwaitsPage) {
            return; // answered already (the page came), or void (stream broken, pager lost)
        }
        e.endTryWait();
        core.env.trace(why, 0, futexes.futexName(e));
        answerTryFromWord(e, false);
    }

    /** The page a relinquish with try waited for is writable here: answered from its word now (once). */
    private void answerTry(FutexEntry e) {
        if (e.tryAwaitsPage) {
            e.endTryWait();
            onRelinquishTry(e);
        }
    }

    /**
     * A page writable here, before any fault waiting for it resumes, whichever fault fetched it:
     * first, a futex whose word still names an unlock's heir that left before it ran passes on as
     * at the unlock (FutexHeirs.passOnStaleHeir); then a try that waited for the page is answered;
     * then a futex whose boosted thread owns it no more (the word came back written over elsewhere)
     * deboosts it;
     * then a relinquish pending for a futex of it that is live and owned by no thread here, with nobody
     * here waiting (the page came back with the word written over elsewhere while nobody waited, 0
     * or a TID of no thread here: {@code PageWords.heldWord}), or owned here without WAITERS (a
     * thread took the free word in the gap), is served again at once: given back as a free futex
     * (or with that TID), or WAITERS set so that the owner's unlock gives it back. A relinquish pending is never left on a live word without WAITERS.
     */
    private void onPageWritable(VmPage p) {
        p.forEachFutex(e -> {
            e.tryPageOverdue = false; // the page came: a later try answers from its word here
            // A word that still names an unlock's heir that left before it ran (its page was
            // elsewhere): the futex passes on as at the unlock, before anything reads the word.
            futexes.heirs.passOnStaleHeir(e);
            // A trylock elsewhere waited for this page: its word decides, first. The try's own
            // fault calls answerTry too, when it resumes after this; that second call finds the
            // flag cleared and does nothing. This one is meant to answer: it runs before any fault
            // on the page resumes (a local lock or unlock), as Linux's trylock acts on the word
            // its fault brought in; the fault's call is only a fallback.
            answerTry(e);
            if (e.boosting != null && inheritance.ownerHere(e) != e.boosting) {
                // The word came back written over elsewhere (PageWords.heldWord): the thread the
                // futex boosted (a relinquish pending, or a boost kept over a broken stream) owns it no more.
                inheritance.refresh(e);
            }
            long s = e.state();
            if (!e.relinquishPending || !isLive(s) || e.heir != null) {
                return;
            }
            if (futexes.unownedHere(s) ? !e.waiters.isEmpty() : hasWaiters(s)) {
                return; // a local waiter's handoff decides, or the owner's unlock gives it back
            }
            onRelinquishFutex(e, e.remotePriority);
            inheritance.refresh(e); // the owner it boosted may hold it no more
        });
    }

    /** The word names a thread of this kernel that ended (its death's pass-on still to do). */
    private boolean ownerEndedHere(long s) {
        int o = owner(s);
        return o != 0 && core.tasks.livingThread(o) == null && core.tasks.endedHere(o);
    }

    /**
     * Its owner is a thread of this kernel that has ended (its fast-path lock raced its death):
     * OWNER_DIED, passed on as for any death. True if the state changed.
     */
    private boolean settleEndedOwner(FutexEntry e, long s) {
        int o = owner(s);
        if (!isLive(s) || o == 0 || core.tasks.livingThread(o) != null || !core.tasks.endedHere(o)) {
            return false;
        }
        futexes.ownerEnded(e, o);
        return e.state() != s;
    }
}
