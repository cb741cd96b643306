package io.machxp.kernel.futex;

import io.machxp.kernel.core.Timer;
import io.machxp.kernel.vm.VmPage;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One futex as this kernel caches it: the state word shared with the fast path, and the
 * core-only bookkeeping (local waiters, the outstanding request to the pager, a pending
 * relinquish).
 *
 * <h2>Overview</h2>
 * States (see {@link FutexWord} for the encoding), written by the kernel core unless marked:
 * <pre>
 *   ABSENT ──granted, no waiter──▶ FREE ◀──unlock (fast path)── TID
 *     ▲   ──granted, waiter W────▶ W|WAITERS? ──────────────────▶ ...
 *     │                            FREE ──lock (fast path)──────▶ TID
 *     │                            TID ──local waiter / relinquish──▶ TID|WAITERS
 *     └──released to the pager──── FREE on relinquish, TID|WAITERS on the owner's unlock
 * </pre>
 * Memory ordering: {@link #state} is read and written through a VarHandle with volatile
 * semantics; the core's own fields are confined to the core thread, which is the only writer
 * of every transition that does not start from FREE or a plain TID. A transition that starts
 * from FREE or a plain TID races with the fast path and is therefore a CAS.
 * With a shared table (task processes on this host), the state lives in a file every task
 * process maps read-write: the kernel reads only its word from there and keeps the kernel-only
 * bits (ABSENT, NOPAGE) itself, publishing them in the table for the fast path.
 */
public final class FutexEntry {
    private static final VarHandle STATE;
    private static final VarHandle SHARED = io.machxp.proto.shm.ShmLayout.LONG;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(FutexEntry.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What this kernel has asked the pager for and not yet had an answer to. */
    public enum Request { NONE, TRY, LOCK }

    private final int objectId;
    private final long offset;
    /** The page the word lives in. */
    public final VmPage page;
    @SuppressWarnings("unused") // accessed through STATE
    private volatile long state = FutexWord.ABSENT;

    // ---- core thread only -------------------------------------------------------------------
    /** Local threads waiting. */
    public final WaitQueue waiters = new WaitQueue();
    /** The lock_futex outstanding to the pager, if any (at most one per futex). */
    public Request request = Request.NONE;
    /** The pager asked for the futex back; the owner's unlock releases it to the pager. */
    public boolean relinquishPending;
    /**
     * Nobody waited for the futex, here or elsewhere, when its page last stopped being writable
     * here (no local waiter, no relinquish pending, no WAITERS in the word). A task elsewhere may
     * then rewrite the word as plain memory, and a wait that began after that write (a relinquish
     * that arrives while the page is away) does not undo it ({@code PageWords.heldWord}).
     */
    public boolean pageLeftUnwaited;
    /**
     * A relinquish_futex with try came while this kernel's held word had an owner here and the
     * page had left unwaited with no copy here: the answer waits for the page, whose word (maybe
     * written over elsewhere) decides it, as Linux's TRYLOCK_PI acts on the word's current value.
     */
    public boolean tryAwaitsPage;
    /**
     * The bound of that wait (half the session's lease, inside the pager's answer deadline): when it
     * fires with the page still away, the try is answered busy from the held word; null if none.
     */
    public Timer tryPageTimer;
    /**
     * That bound fired while the page's fetch is still out: later tries answer from the held word
     * at once instead of waiting another half lease for the same fetch (each would be answered busy
     * at its own bound unless the page came, and each would add a waiting fault to the page).
     * Cleared when the page is writable here, when its fetch fails, and when the pager's tries are
     * void (stream broken, pager lost).
     */
    public boolean tryPageOverdue;
    /** The kernel's write sequence when the pager last granted the futex (piggyback). */
    public long grantedAt;
    /** The highest priority waiting on other kernels, from relinquish_futex; 0 if none. */
    public int remotePriority;
    /**
     * The stream to the pager broke while a relinquish was pending: the relinquish is void, but the
     * waiter elsewhere still waits, so its boost ({@link #remotePriority}) stays on the owner here
     * until the new pager's relinquish takes over, a release, the session's loss, or one lease
     * after the reclaim's welcome (the restarted pager's grace period, after which it asks again),
     * as Linux keeps a PI boost while its waiter blocks; and only while that thread owns the
     * futex: WAITERS stays in the word meanwhile, so its unlock enters the kernel, which ends it
     * (in a free word that WAITERS is the kernel's own: the page's bytes never carry it). With PI
     * only: without it there is no boost to keep.
     */
    public boolean remoteBoostKept;
    /** Counts the breaks that kept a boost: the timer set at a welcome drops only the boost it saw. */
    public long keptBoostBreaks;
    /**
     * When (in its wait queue's arrival order) a kernel elsewhere started waiting at
     * {@code remotePriority}: among equal priorities, local waiters that came before go first.
     */
    public long remoteSince;
    /**
     * When the top waiter elsewhere began waiting at {@code remotePriority}, on this kernel's clock
     * (now less the relinquish's waited_nanos), if {@code remoteSinceKnown}: then it, not
     * {@link #remoteSince}, orders it among the local waiters of its priority.
     */
    public long remoteSinceNanos;
    public boolean remoteSinceKnown;
    /** The priority this kernel's outstanding lock_futex waits with at the pager. */
    public int requestedPriority;
    /**
     * When the top waiter the outstanding lock_futex last told the pager of began waiting
     * ({@link FutexWaiter#sinceNanos}): a younger top waiter of the same priority is told too.
     */
    public long requestedSince;
    /**
     * Core only, during one step: the waiter just requeued after its priority changed; an update of
     * the priority at the pager says {@code requeued} if it is the top waiter.
     */
    public FutexWaiter requeuedNow;
    /**
     * The fencing token of the pager's grant this kernel holds the futex under (0: none yet).
     * Written by the core before the state that lets a thread take the futex, read by lockers.
     */
    public long fencingToken;
    /** When this kernel last asked the pager for the futex (its clock), or -1 (FutexHolds). */
    public long askedNanos = -1;
    /** When the pager last granted it here, and how long that request had taken (-1: unknown). */
    public long grantedNanos;
    public long acquireNanos = -1;
    /** The highest priority of a thread of this kernel that got the futex since its grant (hold policies). */
    public int holdPriority;
    /** The current grant's hold has its timer set (FutexHolds). */
    public boolean holdTimerSet;
    /**
     * The grant said owner_died (the kernel that held it was declared dead) and the word in the
     * page does not say so yet: the core records OWNER_DIED there once the page is writable here,
     * or passes the flag on in futex_released if the futex leaves first.
     */
    public boolean ownerDiedAtGrant;
    /**
     * The current grant said owner_died: kept for the whole holding, also once the core recorded
     * OWNER_DIED in its own copy of the word ({@link #ownerDiedAtGrant} cleared). The pager owes the
     * death until the futex comes back, and its copy of the page may still name the dead thread
     * while this kernel's copy with the recorded word is not returned; a reclaim says owner_died
     * again so that a restarted pager rebuilds that (xp-spec 9.4, 12.6; chaos --mix contended seed
     * 3211). Cleared when the futex leaves.
     */
    public boolean grantSaidOwnerDied;
    /**
     * The word in the page elsewhere may name this TID, of a thread that owns nothing (xp-spec 8.4):
     * the current grant's stale_heir_tid, or, at shutdown, this kernel's own {@link #staleHeirTid}
     * whose rewrite never got its page. The core writes 0 over such a word once the page is
     * writable here (PageWords.grantedWord), or passes the TID on in futex_released if the futex
     * leaves first (as owner_died, to a pager that does not carry it). 0: none.
     */
    public int grantStaleHeirTid;
    /** The current grant came from an owner's unlock to this kernel's waiter (grant's handoff). */
    public boolean grantHandoff;
    /** What the next futex_released says: an owner's unlock to a kernel that waits (handoff). */
    public boolean releaseHandoff;
    /**
     * Granted while its page was not writable here, for local waiters: FREE | NOPAGE until the
     * page-in serves the grant (to the top waiter then, else kept or given back). Cleared when the
     * grant is served or the futex leaves.
     */
    public boolean grantAwaitsPage;
    /**
     * Direct handoff (xp-spec 14): the pager ordered a copy of this kernel's next release of the
     * futex sent to kernel {@code forwardTo} (0: none), for its grant under {@code forwardToken}
     * on its session {@code forwardSession}.
     */
    public int forwardTo;
    public long forwardToken;
    public long forwardSession;
    /** Direct handoff: held from a forwarded copy under this token, whose grant has not come yet (0: none). */
    public long forwardHeld;
    /**
     * After an owner's death, or a PI unlock that handed the futex to a waiter that cannot run
     * yet: the waiter woken to take the futex once it runs (Linux's rt_mutex has no owner until
     * then, and a thread of higher priority takes it first), or null. The word meanwhile is
     * OWNER_DIED|WAITERS after a death ({@link #heirDied}), the heir's TID|WAITERS after an
     * unlock (as Linux's FUTEX_UNLOCK_PI writes it); {@link #heirPath} is how the heir gets it.
     */
    public FutexWaiter heir;
    public io.machxp.proto.task.AcquirePath heirPath;
    public boolean heirWaited;
    /** The heir's futex is a dead owner's (OWNER_DIED, no TID in the word); false: an unlock's. */
    public boolean heirDied;
    /**
     * An unlock's heir: the TID its word names, HEIR|WAITERS as the unlock wrote it, or the TID of
     * the waiter it first woke when a priority change put another waiter in that one's place
     * (FutexHeirs.reelect): as on Linux, the word changes only when the new heir runs and takes the
     * futex (fixup_pi_state_owner), and that waiter, passed over, owns nothing meanwhile. 0: none.
     */
    public int heirWordTid;
    /**
     * An unlock's heir that left its wait before it ran (cancelled, or its lock failed: its page
     * refused) while the futex's page was elsewhere: its TID is still in the word there, but it owns
     * nothing. The futex passes on as at the unlock the next time the page is writable here (before
     * any fault waiting for it resumes: FutexHeirs.passOnStaleHeir); until then nobody is boosted
     * for it and that thread's own lock or unlock is not judged by the word. 0: none. Cleared at
     * that pass, at every grant, and when the futex is forgotten.
     */
    public int staleHeirTid;
    /**
     * A rewrite of the word waits for its page (a stale heir above, or a dead owner's pass-on) and its
     * page-in was refused while someone waits: the next fetch's timer (FutexRewriteRetry), or null.
     * At most one is out; cleared when it fires.
     */
    public Timer rewriteRetryTimer;
    /** The delay before that retry's successor, doubled at each refusal up to a bound; 0: none yet. */
    public long rewriteRetryNanos;
    /**
     * Refusals of that round's fetches made at the bound's delay; after a few the round slows to once a lease
     * (FutexRewriteRetry). Meaningful only while rewriteRetryNanos is not 0: a round starts at 0.
     */
    public int rewriteRefusalsAtMax;
    /**
     * Core only: the task of a client peer this futex counts to while the kernel asks for it or
     * holds it (the core's FutexShares: the peer's share of futexes), or null: counted to nobody.
     */
    public io.machxp.kernel.task.MachTask chargedTask;
    /**
     * When, in this kernel's order of such events ({@code FutexWaits.piStateJoinsOwner}), the wait
     * for this futex last became a wait for its current owner: its first waiter (here, or a kernel
     * elsewhere) blocked while it was held, or its owner took it with waiters behind. Linux's
     * pi_state joins its owner's pi_state_list at the head at those moments (attach_to_pi_owner,
     * pi_state_update_owner), and an owner's exit wakes its futexes' top waiters from that head:
     * a dead owner's futexes are passed on newest first ({@code RobustFutexes.threadEnded}).
     */
    public long piStateSince;
    /** The local thread this futex boosts now (its owner, while anyone waits), or null. */
    public io.machxp.kernel.task.MachThread boosting;

    /**
     * Where the state lives when the kernel shares it with task processes (a slot of the
     * object's futex table, see {@link io.machxp.proto.shm.ShmLayout}); null: in {@link #state}.
     */
    private final java.nio.ByteBuffer shared;
    private final int sharedAt;
    /**
     * With a shared table: the kernel-only bits of the state (ABSENT, NOPAGE) as the core last
     * set them, its own record; written by the core only, before or with the table.
     */
    private volatile long kernelBits = FutexWord.ABSENT;
    private static final long WORD_BITS = 0xffffffffL;

    public FutexEntry(VmPage page, int offsetInPage) {
        this(page, offsetInPage, null, 0);
    }

    /**
     * Whether task processes can find its state: it lives in a shared futex table. An entry of an
     * object whose table is full lives in the heap, and task processes do not know its word is a
     * futex's (the kernel then maps its page to no task process: SharedPages).
     */
    public boolean inSharedTable() {
        return shared != null;
    }

    /** An entry whose state and fencing token live at {@code slotAt} in a shared futex table. */
    public FutexEntry(VmPage page, int offsetInPage, java.nio.ByteBuffer table, int slotAt) {
        this.page = page;
        this.objectId = page.objectId;
        this.offset = page.pageOffset + offsetInPage;
        this.shared = table;
        this.sharedAt = slotAt + io.machxp.proto.shm.ShmLayout.FUTEX_STATE;
        if (table != null) {
            SHARED.setVolatile(table, sharedAt, FutexWord.ABSENT);
        }
    }

    /** Core only: the grant's token, published to task processes before the state that lets them lock. */
    public void granted(long token) {
        fencingToken = token;
        forwardTo = 0; // an order for an earlier grant
        staleHeirTid = 0; // a new holding: a word it finds names whoever the page says
        if (shared != null) {
            SHARED.setVolatile(shared, sharedAt + 8, token);
        }
    }

    /** Offset of the word in its page. */
    public int offsetInPage() {
        return (int) (offset - page.pageOffset);
    }

    /** The kernel's object_id of the memory object the futex lives in. */
    public int objectId() {
        return objectId;
    }

    /** Offset of the futex word in its memory object. */
    public long offset() {
        return offset;
    }

    /**
     * The state. Shared with task processes, only its low 32 bits (the word) are read from the
     * table: the kernel-only bits (ABSENT, NOPAGE) are the core's own record, since a task process
     * can write anything into the table (docs/shared-memory.md, "What a task process can do to
     * the files").
     */
    public long state() {
        return shared == null ? (long) STATE.getVolatile(this)
                : ((long) SHARED.getVolatile(shared, sharedAt) & WORD_BITS) | kernelBits;
    }

    /**
     * Core only: CAS from {@code expected} (as {@link #state} read it) to {@code next}. Shared
     * with task processes, the word must be the expected one; kernel-only bits that a task process
     * wrote into the table are overwritten, not compared (the core's record decides them).
     */
    public boolean compareAndSetState(long expected, long next) {
        if (shared == null) {
            return STATE.compareAndSet(this, expected, next);
        }
        if ((expected & ~WORD_BITS) != kernelBits) {
            return false;
        }
        while (true) {
            long v = (long) SHARED.getVolatile(shared, sharedAt);
            if ((v & WORD_BITS) != (expected & WORD_BITS)) {
                return false;
            }
            if (SHARED.compareAndSet(shared, sharedAt, v, next)) {
                kernelBits = next & ~WORD_BITS;
                return true;
            }
        }
    }

    /** Core only, from a state the fast path cannot act on (ABSENT, NOPAGE or WAITERS set). */
    public void setState(long next) {
        if (shared == null) {
            STATE.setVolatile(this, next);
        } else {
            kernelBits = next & ~WORD_BITS;
            SHARED.setVolatile(shared, sharedAt, next);
        }
    }

    /**
     * Core only: puts the kernel-only bits back into the shared table if a task process changed
     * them there (so that the fast path of the other task processes of this kernel stops acting
     * on a futex the kernel does not hold, or holds without its page); whether it had to.
     */
    public boolean restoreKernelBits() {
        if (shared == null) {
            return false;
        }
        long v = (long) SHARED.getVolatile(shared, sharedAt);
        return (v & ~WORD_BITS) != kernelBits
                && SHARED.compareAndSet(shared, sharedAt, v, (v & WORD_BITS) | kernelBits);
    }

    /**
     * Fast-path lock: FREE -> tid, one exact CAS (any thread). Refused where the core's record
     * says the futex is not here and usable, whatever the shared table says.
     */
    public boolean tryFastLock(int tid) {
        return exactCas(FutexWord.FREE, tid & WORD_BITS);
    }

    /** Fast-path unlock: tid -> FREE, only when nobody waits and no relinquish is pending (any thread). */
    public boolean tryFastUnlock(int tid) {
        return exactCas(tid & WORD_BITS, FutexWord.FREE);
    }

    private boolean exactCas(long expected, long next) {
        return shared == null ? STATE.compareAndSet(this, expected, next)
                : kernelBits == 0 && SHARED.compareAndSet(shared, sharedAt, expected, next);
    }

    @Override
    public String toString() {
        long s = state();
        return "futex@" + Long.toHexString(offset) + (FutexWord.isAbsent(s) ? "[absent"
                : FutexWord.isNoPage(s) ? "[cached, page elsewhere" : "[cached")
                + " word=0x" + Integer.toHexString(FutexWord.word(s)) + " waiters=" + waiters.size()
                + " request=" + request + (relinquishPending ? " relinquish" : "")
                + (grantAwaitsPage ? " grant-awaits-page" : "") + "]";
    }

    /** The pager's tries are void (stream broken, pager lost): no wait, no overdue fetch remembered. */
    public void forgetTryWait() {
        endTryWait();
        tryPageOverdue = false;
    }

    /** The relinquish with try waits for the page no more (answered, or void): its bound is cancelled. */
    public void endTryWait() {
        tryAwaitsPage = false;
        if (tryPageTimer != null) {
            tryPageTimer.cancel();
            tryPageTimer = null;
        }
    }
}
