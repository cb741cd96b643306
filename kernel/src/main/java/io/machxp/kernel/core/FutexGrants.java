package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.NOPAGE;
import static io.machxp.kernel.futex.FutexWord.NOT_RECOVERABLE;
import static io.machxp.kernel.futex.FutexWord.OWNER_DIED;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.PageData;
import java.util.ArrayList;
import java.util.List;

/**
 * What the pager grants this kernel: memory_object_futex_granted (with the pages that come
 * with it) and memory_object_futex_busy, the answer to a trylock it could not grant. Part of the
 * kernel core's futexes ({@link KernelFutexes}): core thread only. Asking for a futex and giving
 * it back are {@link FutexToPager}'s, the pager asking for it back {@link FutexRelinquish}'s,
 * what a session's end does to a granted futex {@link FutexSessionEnds}'.
 *
 * <h2>Overview</h2>
 * <pre>
 *  futex_granted    ABSENT           -> the page's word decides (0 if it names the grant's
 *                                       stale_heir_tid): top waiter's TID (PAGER_GRANT,
 *                                       with EOWNERDEAD if the word says an owner died), or kept;
 *                                       without its page: FREE|NOPAGE (grantAwaitsPage) until
 *                                       the page-in, or until a lock that gets the page first
 *                                       finds no waiter left; if the pager refuses the page the
 *                                       waiters fail
 *  futex_busy       TRY out          -> the trylocks answer null; lock_futex if others wait
 * </pre>
 * In Part II ({@code cacheFutexes == false}) every futex goes back as soon as nobody here owns
 * it. Fairness: a kernel always lets one local waiter have a futex it was granted before giving
 * it back ({@link KernelFutexes#unlock}).
 */
final class FutexGrants {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final FutexInheritance inheritance;
    private final PageCache pages;
    private final boolean cacheFutexes;
    private final FutexHolds holds;
    private final FutexForwards forwards;
    private final FutexToPager toPager;

    FutexGrants(KernelCore core, KernelFutexes futexes, FutexInheritance inheritance, PageCache pages,
            FutexHolds holds, FutexForwards forwards, FutexToPager toPager, boolean cacheFutexes) {
        this.core = core;
        this.futexes = futexes;
        this.inheritance = inheritance;
        this.pages = pages;
        this.cacheFutexes = cacheFutexes;
        this.holds = holds;
        this.forwards = forwards;
        this.toPager = toPager;
    }

    void onFutexGranted(FutexEntry e, VmObject o, List<PageData> withPages, long fencingToken, boolean ownerDied,
            int staleHeirTid) {
        e.granted(fencingToken);
        e.pageLeftUnwaited = false; // a new holding: its page has not left it yet
        forwards.granted(e);
        holds.granted(e);
        e.ownerDiedAtGrant = ownerDied;
        e.grantSaidOwnerDied = ownerDied; // for the holding: a reclaim says it again (SessionReclaim)
        e.grantStaleHeirTid = ownerDied ? 0 : staleHeirTid; // owner_died is written over any word anyway
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
                toPager.sendReleased(e);
            }
        } else {
            // A waiter gets it once the page is writable here; until then it counts as held.
            e.setState(FREE | NOPAGE);
            e.grantAwaitsPage = true;
            pages.withAccess(o, e.offset(), Access.READ_WRITE, PageFault.of(() -> serveAwaitedGrant(e),
                    error -> pageRefused(e, error)));
        }
        installed.forEach(pages::resume);
        if (!isAbsent(e.state())) {
            toPager.cache.granted(e); // kept here: past the cache's bound, idle futexes go back
        }
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
        if (core.sessions.pagerLost(e.objectId()) || !isNoPage(s) || isAbsent(s) || owner(s) != 0) {
            return; // the pager is gone (forgetFutex cleans up), or the futex has moved on
        }
        if (!cacheFutexes || e.relinquishPending) {
            e.setState(ABSENT);
            toPager.sendReleased(e);
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
        } else if (futexes.waits.handOff(e, AcquirePath.PAGER_GRANT, (word & ~WAITERS) == OWNER_DIED, e.grantHandoff)) {
            futexes.waits.answerTrylocks(e); // another got it: a trylock does not wait for it
            inheritance.refresh(e);
            return;
        }
        if (cacheFutexes && !e.relinquishPending) {
            e.setState(word & 0xffffffffL); // Part III: keep it
            return;
        }
        e.setState(ABSENT);
        PageWords.leaveWord(e, word);
        toPager.sendReleased(e);
    }

    void onFutexBusy(FutexEntry e) {
        e.request = FutexEntry.Request.NONE;
        futexes.waits.answerTrylocks(e);
        if (!e.waiters.isEmpty()) {
            toPager.askPager(e, FutexEntry.Request.LOCK);
        }
        toPager.shares.mayHaveLeft(e); // no waiter left to ask for it again
    }
}
