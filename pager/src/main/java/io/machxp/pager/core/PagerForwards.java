package io.machxp.pager.core;

import io.machxp.pager.futex.FutexForwarding;
import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.xp.MemoryObjectFutexForwarded;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Direct handoff on the pager's side (xp-spec 13, a grant policy's {@code directHandoffNanos}):
 * the pager orders a futex's holder H to hand it straight to the waiting kernel K, and stays the
 * authority: the futex is H's until K confirms, and a forward that does not settle is cancelled
 * and the futex taken back the usual way. Part of the pager's futexes: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  held by H, K at the head of the queue   -> relinquish(forward_to K, token T, page) to H;
 *                                             the futex's page, if H writes it, takes no request
 *  futex_forwarded(T) from K               -> H's release (pages: K writes them now), then K
 *                                             holds it under T, as granted; relinquish to K if
 *                                             others wait
 *  no answer within the policy's time, or H left
 *                                          -> cancel_forward(T) to K: it answers, taken or refused
 *  futex_forwarded(refused) from K         -> cancel_forward(T) to H: its futex_released comes
 *                                             back (H left: released as after its death)
 *  K left (died, terminated)               -> cancel_forward(T) to H; a release it had forwarded
 *                                             goes on with owner_died (K may have used it)
 *  futex_released(token of H) from H       -> the forward is over; the usual release
 * </pre>
 * Fencing: T is above the holder's token, and a cancelled T is refused by K for good; the next
 * grant's token is above T.
 */
final class PagerForwards {
    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final FutexJournal journal;
    private final FutexTries tries;
    private final GrantLeases leases;
    private final long tokenEpoch;
    private final Set<FutexRecord> active = new LinkedHashSet<>();

    PagerForwards(CoreContext core, PageCoherence pages, PagerFutexes futexes, FutexJournal journal,
            FutexTries tries, GrantLeases leases, long tokenEpoch) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.journal = journal;
        this.tries = tries;
        this.leases = leases;
        this.tokenEpoch = tokenEpoch;
    }

    /**
     * Instead of a relinquish at {@code priority}: orders the holder to forward the futex to the
     * head of its queue. False (send the relinquish) without the policy, while a forward is under
     * way, or when holder or head cannot take part (no kernel link id, a broken stream).
     */
    boolean order(FutexRecord f, int priority) {
        long within = leases.directHandoffNanos();
        if (within <= 0 || f.forward != null || f.queue.isEmpty() || f.holder == null || f.holder.broken) {
            return false;
        }
        KernelSession from = f.holder;
        KernelSession to = f.queue.waiters().get(0).getKey();
        if (to.broken || to.kernelId == 0 || from.kernelId == 0 || to == from) {
            return false;
        }
        MemoryObject o = core.catalog.get(f.key.object());
        long page = f.key.offset() - f.key.offset() % core.pageSize;
        boolean withPage = pages.gate(from, o, page);
        if (!withPage && pages.writerOf(o.name(), page) != null) {
            return false; // a page someone writes, busy: it could stay behind, dirty, with a kernel that then dies
        }
        long token = Math.max(f.token + 1, tokenEpoch << 32 | 1);
        FutexForwarding fw = new FutexForwarding(from, to, token, withPage ? page : -1);
        f.forward = fw;
        active.add(f);
        core.stats.forwardsOrdered.increment();
        core.send(from, wrap(relinquish(from, f.key).setPriority(priority).setForwardTo(to.kernelId)
                .setForwardToken(token).setForwardPage(withPage)));
        core.env.schedule(within, () -> {
            if (f.forward == fw && !fw.cancelSent && !fw.failed) {
                cancelAtTarget(f, fw); // not confirmed in time: lost on the link, or the holder is slow
            }
        });
        return true;
    }

    /** futex_forwarded from {@code s}: taken under the forward's token, or refused. */
    void answered(KernelSession s, FutexKey key, FutexRecord f, MemoryObjectFutexForwarded m) {
        FutexForwarding fw = f == null ? null : f.forward;
        if (fw == null || fw.to != s || fw.token != m.getFencingToken() || fw.failed) {
            core.refuse(s, "memory_object_futex_forwarded for " + key + " under token " + m.getFencingToken()
                    + ", which no forward to it is waiting for");
            return;
        }
        if (m.getRefused()) {
            failed(f, fw);
            return;
        }
        taken(f, fw, m.getReleased());
    }

    /**
     * futex_released from the holder while a forward is under way: it never sent the futex (the
     * order crossed its release, or was cancelled), or sends the release it had forwarded.
     */
    void released(FutexRecord f, MemoryObjectFutexReleased r) {
        FutexForwarding fw = f.forward;
        if (fw == null) {
            return;
        }
        end(f, fw, null);
        f.token = Math.max(f.token, fw.token); // the next grant goes on above the forward's token
        if (r.getForwarded() && fw.toGone) {
            f.ownerDied = true; // it reached a kernel that died: what that kernel wrote under it is lost
        }
    }

    /**
     * {@code s} leaves (declared dead, terminated the object, stream ended): a forward it was to
     * take goes back to its holder; one it was to send waits for its target's answer.
     *
     * @return the futexes it holds whose release waits for a forward to settle
     */
    Set<FutexKey> left(KernelSession s, String object) {
        Set<FutexKey> waiting = new LinkedHashSet<>();
        for (FutexRecord f : new ArrayList<>(active)) {
            FutexForwarding fw = f.forward;
            if (fw == null || object != null && !f.key.object().equals(object)) {
                continue;
            }
            if (fw.from == s) {
                fw.fromGone = true;
                waiting.add(f.key);
                if (fw.failed || fw.toGone) {
                    end(f, fw, null);
                    f.ownerDied = true; // what it forwarded is lost with it
                    waiting.remove(f.key);
                } else if (!fw.cancelSent) {
                    cancelAtTarget(f, fw);
                }
            } else if (fw.to == s) {
                fw.toGone = true;
                failed(f, fw);
            }
        }
        return waiting;
    }

    private void cancelAtTarget(FutexRecord f, FutexForwarding fw) {
        fw.cancelSent = true;
        core.stats.forwardsCancelled.increment();
        core.send(fw.to, wrap(relinquish(fw.to, f.key).setCancelForward(true).setForwardToken(fw.token)));
    }

    /** The forward will not be taken: the holder gives the futex back, or it is released as after its death. */
    private void failed(FutexRecord f, FutexForwarding fw) {
        fw.failed = true;
        if (fw.fromGone) {
            end(f, fw, null);
            f.token = Math.max(f.token, fw.token);
            f.ownerDied = true; // the holder left, perhaps with the release it had forwarded: its writes may be lost
            futexes.releaseUnseen(f);
        } else {
            core.send(fw.from, wrap(relinquish(fw.from, f.key).setCancelForward(true).setForwardToken(fw.token)));
        }
    }

    /** {@code to} took the futex: the holder's release as it forwarded it, then {@code to}'s grant under the token. */
    private void taken(FutexRecord f, FutexForwarding fw, MemoryObjectFutexReleased r) {
        KernelSession from = fw.from;
        KernelSession to = fw.to;
        boolean moved = false;
        for (PageData d : r.getPagesList()) {
            if (d.getOffset() != fw.pageOffset) {
                core.refuse(to, "memory_object_futex_forwarded for " + f.key + " with a page at 0x"
                        + Long.toHexString(d.getOffset()) + ", which the forward did not carry");
            }
            moved |= d.getOffset() == fw.pageOffset;
        }
        end(f, fw, moved ? to : null);
        from.held.remove(f.key);
        if (r.getRequestAgain() && !fw.fromGone && !f.queue.contains(from)) {
            f.queue.add(from, r.getRequestPriority());
            from.queued.add(f.key);
        }
        f.queue.remove(to);
        to.queued.remove(f.key);
        tries.answer(f); // another got it: a trylock does not wait
        f.holder = to;
        to.held.add(f.key);
        core.stats.grants.increment();
        core.stats.handoff(to, f.key, from.kernelName);
        f.lastHolder = to.id;
        f.lastHolderName = to.kernelName;
        f.token = fw.token;
        f.ownerDied = false; // a death of the holder after it forwarded lost nothing: the futex reached `to`
        f.grantOwnerDied = r.getOwnerDied();
        f.relinquishSent = false;
        f.tryAsked = false;
        f.handoff = false;
        leases.granted(f);
        journal.forwarded(to, f.key);
        futexes.askToRelinquish(f);
    }

    /** The forward is over: its page takes requests again, written by {@code to} if it came with the futex. */
    private void end(FutexRecord f, FutexForwarding fw, KernelSession to) {
        f.forward = null;
        active.remove(f);
        if (fw.pageOffset >= 0) {
            pages.ungate(core.catalog.get(f.key.object()), fw.pageOffset, fw.from, to);
        }
    }

    private static MemoryObjectRelinquishFutex.Builder relinquish(KernelSession s, FutexKey key) {
        return MemoryObjectRelinquishFutex.newBuilder().setObjectId(s.objectIdOf(key.object())).setOffset(key.offset());
    }

    private static PagerToKernel wrap(MemoryObjectRelinquishFutex.Builder m) {
        return PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(m).build();
    }
}
