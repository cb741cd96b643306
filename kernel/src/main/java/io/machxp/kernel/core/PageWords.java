package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.NOPAGE;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;

/**
 * Futex words in a resident page's bytes, as the {@link PageCache} keeps them. Part of the kernel
 * core: core thread only.
 *
 * <p>A live futex (held by this kernel, page writable here) keeps its word in its
 * {@link FutexEntry} state, where the fast path changes it without the core; the page's bytes at
 * that word are stale meanwhile. The two moves between them:
 * <pre>
 *  page stops being writable here  -> {@link #intoBytes}: entry gets NOPAGE (fast path stops),
 *                                     its word is written into the bytes (a free word without
 *                                     a kept boost's WAITERS: {@link #sharedWord})
 *  page writable here again        -> {@link #fromBytes}: a held entry takes its word back, unless
 *                                     a task on another kernel wrote it while nobody waited
 *                                     ({@link #heldWord}); for one nobody here owns the page's
 *                                     word is the truth
 * </pre>
 * The rest writes the word of a futex no local thread can hold live: a waiter's WAITERS bit
 * ({@link #markWaiters}), the word a futex leaves behind ({@link #leaveWord}), OWNER_DIED or a
 * stale heir's rewrite from a grant ({@link #grantedWord}). Copies by tasks through a page mapping never touch a futex word.
 */
final class PageWords {
    private PageWords() {
    }

    /** Each live futex's word goes into the bytes, after NOPAGE stops the fast path on it. */
    static void intoBytes(VmPage p) {
        p.forEachFutex(e -> {
            while (true) {
                long s = e.state();
                if (!isLive(s)) {
                    return;
                }
                if (e.compareAndSetState(s, s | NOPAGE)) { // the fast path cannot act on it now
                    e.pageLeftUnwaited = e.waiters.isEmpty() && !e.relinquishPending && ((int) s & WAITERS) == 0;
                    storeWord(p, e, sharedWord(e, s));
                    return;
                }
            }
        });
    }

    /**
     * The word of a live futex as it goes into the page's bytes, which other kernels, the pager
     * and reads here see once the page is not writable here. It goes as it is, but for one case:
     * while a boost is kept over a broken stream ({@link FutexEntry#remoteBoostKept}) a free word
     * (nobody owns it: 0 or OWNER_DIED) carries FUTEX_WAITERS only as a local device, sending the
     * next locker here into the kernel; unless something waits that the word must tell of (a heir
     * not yet run, a local waiter, a relinquish pending) that WAITERS stays out of the bytes of a
     * word 0: Linux never shows it there, and it would outlive the episode in the copies (the end
     * of the kept boost changes only the state). A dead owner's word keeps it
     * ({@link FutexWord#deadWord}: it cannot tell the kept boost's WAITERS from its own). {@link #fromBytes} adds it back while the
     * boost is kept. An owned word goes as it is: WAITERS stays in it to the unlock, as on Linux.
     */
    private static int sharedWord(FutexEntry e, long s) {
        if (e.remoteBoostKept && owner(s) == 0 && e.heir == null && e.waiters.isEmpty() && !e.relinquishPending) {
            return FutexWord.releasedWord(s);
        }
        return (int) s;
    }

    /**
     * The page is writable here again: the futexes this kernel holds in it take their words back.
     * A held one keeps the word of its state; for one nobody here owns, the page's word is the
     * truth (it may say that an owner died, or that the futex is not recoverable), with WAITERS
     * while a boost is kept over a broken stream (the next owner here enters the kernel).
     */
    static void fromBytes(VmPage p) {
        p.forEachFutex(e -> {
            long s = e.state();
            if (isAbsent(s)) {
                if (!e.waiters.isEmpty()) {
                    markWaiters(e);
                }
                return;
            }
            if (!isNoPage(s) || (owner(s) == 0 && e.grantAwaitsPage)) {
                return; // live already, or a grant waiting for this page: that grant decides
            }
            int word = owner(s) == 0 ? FutexWord.unownedWord(grantedWord(e)) : heldWord(p, e, (int) s);
            if (owner(word) != 0 && ((loadWord(p, e) & WAITERS) != 0 || !e.waiters.isEmpty() || e.relinquishPending)) {
                word |= WAITERS;
            } else if (owner(word) == 0 && e.remoteBoostKept) {
                word |= WAITERS; // a boost kept over a broken stream: its next owner here enters the kernel (FutexSessionEnds)
            }
            e.setState(word & 0xffffffffL);
            e.pageLeftUnwaited = false;
        });
        p.newerElsewhere = false;
    }

    /**
     * The word of a futex held here whose page comes back writable. Only this kernel changes it
     * meanwhile, except for two writes elsewhere: a waiter's kernel setting WAITERS, and a task's
     * vm_write (or atomic) on another kernel, which knows nothing of the futex. While nobody waits
     * the word is plain memory (task.proto: the write changes the futex, as on Linux), so a word
     * written elsewhere is the truth, as the page's other bytes are, and an acknowledged write is
     * not undone. With waiters here or elsewhere the held word stays: that write should have been
     * refused (EINVAL), which only a kernel that knows of the wait can do (docs/architecture.md);
     * except for a wait elsewhere that began while the page was away from a futex nobody waited
     * for when it left ({@link FutexEntry#pageLeftUnwaited}): the write may have come first, as in
     * write-free-over-held-across-kernels.yaml (a task on B writes 0 over the word A's thread holds,
     * then locks it: Linux's LOCK_PI finds a free word and takes it), and a write after that wait
     * began is one that should have been refused anyway, so the word in the page is the truth.
     * Only data another kernel wrote since counts ({@link VmPage#newerElsewhere}, from the page
     * versions): a copy no newer than this kernel's own (a reclaim's page refused and discarded,
     * an unversioned pager's) may hold an older word, and the held futex keeps its own.
     */
    private static int heldWord(VmPage p, FutexEntry e, int held) {
        int inPage = loadWord(p, e);
        boolean written = p.newerElsewhere && ((inPage ^ held) & ~WAITERS) != 0;
        return written && e.waiters.isEmpty() && (!e.relinquishPending || e.pageLeftUnwaited) ? inPage : held;
    }

    /**
     * A local thread waits for a futex another kernel holds: like a Linux waiter, set WAITERS in
     * the word if it has an owner and the page is writable here. Core only.
     */
    static void markWaiters(FutexEntry e) {
        VmPage p = e.page;
        if (p.access != Access.READ_WRITE) {
            return;
        }
        int w = loadWord(p, e);
        if (owner(w) != 0 && (w & WAITERS) == 0) {
            storeWord(p, e, w | WAITERS);
        }
    }

    /**
     * A futex leaves this kernel with nobody here owning it: its word goes into the page, 0 for a
     * free futex, or the robust state it is in ({@link FutexWord#releasedWord}).
     */
    static void leaveWord(FutexEntry e, long state) {
        VmPage p = e.page;
        if (p.access == Access.READ_WRITE) {
            storeWord(p, e, FutexWord.releasedWord(state));
        }
    }

    /**
     * A thread of this kernel that ended owning the futex, whose page is writable here: the word
     * says so as Linux's handle_futex_death leaves it, {@code (word & WAITERS) | OWNER_DIED}, so the
     * next owner gets EOWNERDEAD.
     */
    static void recordDeath(FutexEntry e, long state) {
        storeWord(e.page, e, FutexWord.deadWord(state));
    }

    /**
     * The word a grant finds in its writable page: if the grant said the holding kernel died,
     * OWNER_DIED is recorded there first (unless the futex is already not recoverable), whatever
     * the reverted page said, so that the next owner gets EOWNERDEAD. If it named a stale heir
     * (futex_granted.stale_heir_tid, xp-spec 8.4) and the word still names that thread, which owns
     * nothing, without OWNER_DIED, the word becomes 0, as the unlock that woke it would have left
     * it; a word a task wrote since stays.
     */
    static int grantedWord(FutexEntry e) {
        if (e.ownerDiedAtGrant) {
            e.ownerDiedAtGrant = false;
            e.grantStaleHeirTid = 0;
            int w = loadWord(e.page, e);
            if ((w & ~WAITERS) != FutexWord.NOT_RECOVERABLE) {
                storeWord(e.page, e, FutexWord.OWNER_DIED);
            }
        }
        if (e.grantStaleHeirTid != 0) {
            int tid = e.grantStaleHeirTid;
            e.grantStaleHeirTid = 0;
            int w = loadWord(e.page, e);
            if (owner(w) == tid && (w & FutexWord.OWNER_DIED) == 0) {
                storeWord(e.page, e, 0);
            }
        }
        return loadWord(e.page, e);
    }

    /** The word in the bytes of a writable page (not the live state). */
    static int wordInPage(FutexEntry e) {
        return loadWord(e.page, e);
    }

    /** Copies bytes of a readable page, with the words of live futexes as they are now. */
    static void read(VmPage p, int from, byte[] out, int at, int length) {
        io.machxp.kernel.vm.PageContents.copyOut(p.data, from, out, at, length);
        p.forEachFutex(e -> {
            long s = e.state();
            int word = e.offsetInPage();
            if (isLive(s) && word + 4 > from && word < from + length) {
                byte[] w = new byte[4];
                PageBytes.putInt(w, 0, (int) s);
                for (int i = 0; i < 4; i++) {
                    int pos = word + i;
                    if (pos >= from && pos < from + length) {
                        out[at + pos - from] = w[i];
                    }
                }
            }
        });
    }

    private static int loadWord(VmPage p, FutexEntry e) {
        return PageBytes.getInt(p.data, e.offsetInPage());
    }

    private static void storeWord(VmPage p, FutexEntry e, int word) {
        int at = e.offsetInPage();
        if (PageBytes.getInt(p.data, at) != word) {
            PageBytes.putInt(p.data, at, word);
            p.dirty = true;
        }
    }
}
