package io.machxp.kernel.core;

import com.google.protobuf.ByteString;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The dirty pages the kernel gave back without knowing yet whether the pager took them, kept for
 * a reclaim. Part of the kernel core: core thread only; the {@link PageCache} says what leaves,
 * the session ({@link KernelSession}) when keepalives go out and are answered.
 *
 * <h2>Overview</h2>
 * Versions and retained returns. Each page carries the pager's version of its contents; a dirty
 * page leaving the kernel is one version more. With a lease, the data of each dirty page that
 * left is kept until the pager answers a keepalive sent after it (the stream is FIFO, so the
 * pager has taken it by then): if the pager restarts meanwhile, the reclaim gives it again, and
 * the version tells the pager whether it had taken it. A supply of the same version does not
 * confirm it: a pager answers a fault from the copy it holds in memory before its store has
 * written it (only the keepalive's answer waits for the disk, xp-spec 4.2); a newer version does,
 * as whoever wrote that one keeps it until the pager confirms it.
 * <pre>
 *  data_return or futex_released, dirty  -> retained until the next keepalive is answered
 *  pager_keepalive answered              -> what left before that keepalive is dropped
 *  the page supplied again, newer version -> dropped (the pager had taken it, and a later write)
 *  reclaim                               -> given again, retained until the next keepalive
 * </pre>
 * With several pagers each page counts with its object's pager's session: its keepalives, its lease.
 *
 * <p>With a lease or without, it also counts the returns with data (dirty or precious) each pager has not confirmed yet
 * (sent after the last keepalive it answered): what a clean end that finds no answer to its last
 * keepalive says may not be on the pager's disk ({@link EndBarrier}).
 */
final class RetainedReturns {
    /** A dirty page that went to the pager, kept until keepalive {@code answeredBy} is answered. */
    private record Retained(long version, ByteString data, int pager, long answeredBy) {}

    private final Map<VmPage, Retained> retained = new HashMap<>();
    /** The pager of an object, by its id. */
    private final java.util.function.IntUnaryOperator pagerOf;
    private final boolean[] retainReturns;
    private final long[] nextKeepalive;
    /** Per pager: dirty returns sent so far, and how many of them an answered keepalive confirmed. */
    private final long[] sent;
    private final long[] confirmed;
    /** Per pager: each keepalive out, {sequence, returns sent before it}, oldest first. */
    private final java.util.ArrayDeque<long[]>[] keepalivesOut;

    RetainedReturns(int pagers, java.util.function.IntUnaryOperator pagerOf) {
        this.pagerOf = pagerOf;
        this.retainReturns = new boolean[pagers];
        this.nextKeepalive = new long[pagers];
        java.util.Arrays.fill(nextKeepalive, 1);
        this.sent = new long[pagers];
        this.confirmed = new long[pagers];
        @SuppressWarnings("unchecked")
        java.util.ArrayDeque<long[]>[] out = new java.util.ArrayDeque[pagers];
        for (int p = 0; p < pagers; p++) {
            out[p] = new java.util.ArrayDeque<>();
        }
        this.keepalivesOut = out;
    }

    /** With a lease: keep what leaves dirty for {@code pager} until a keepalive sent after it is answered. */
    void retainReturns(int pager) {
        retainReturns[pager] = true;
    }

    /** Keepalive {@code sequence} went to {@code pager}: returns sent since wait for its successor. */
    void keepaliveSent(int pager, long sequence) {
        nextKeepalive[pager] = sequence + 1;
        keepalivesOut[pager].add(new long[] {sequence, sent[pager]});
    }

    /** {@code pager} answered keepalive {@code sequence}: it has taken everything sent before it. */
    void keepaliveAnswered(int pager, long sequence) {
        retained.values().removeIf(r -> r.pager == pager && r.answeredBy <= sequence);
        for (long[] k; (k = keepalivesOut[pager].peek()) != null && k[0] <= sequence; ) {
            keepalivesOut[pager].poll();
            confirmed[pager] = Math.max(confirmed[pager], k[1]);
        }
    }

    /**
     * Returns with data (dirty, or precious: spec 6.10) sent to {@code pager} that no answered
     * keepalive confirmed yet (lease or not).
     */
    long unconfirmed(int pager) {
        return sent[pager] - confirmed[pager];
    }

    /**
     * The kernel stopped using {@code pager}: what it retained for a reclaim there goes (no reclaim
     * will give it again), and a session opened with the pager later numbers its keepalives anew.
     */
    void sessionOver(int pager) {
        retained.values().removeIf(r -> r.pager == pager);
        retainReturns[pager] = false;
        nextKeepalive[pager] = 1;
        sent[pager] = 0;
        confirmed[pager] = 0;
        keepalivesOut[pager].clear();
    }

    /** Page {@code p} leaves dirty with {@code data}, at its new version. */
    void retain(VmPage p, ByteString data) {
        int pager = pagerOf.applyAsInt(p.objectId);
        sent[pager]++;
        if (retainReturns[pager]) {
            retained.put(p, new Retained(p.version, data, pager, nextKeepalive[pager]));
        }
    }

    /**
     * Page {@code p} leaves clean but precious, with its data (spec 6.10: the pager may keep no
     * copy): nothing is retained for a reclaim (the pager had it), but it counts as a return the
     * pager has not confirmed until a keepalive answers, as a dirty one.
     */
    void preciousReturned(VmPage p) {
        sent[pagerOf.applyAsInt(p.objectId)]++;
    }

    /**
     * The pager supplied page {@code p} again at {@code version}. Only a newer version drops the
     * return: the same one may come from the pager's memory before its store has written it.
     */
    void supplied(VmPage p, long version) {
        Retained r = retained.get(p);
        if (r != null && version > r.version) {
            retained.remove(p); // the pager took it, and a later write of another kernel
        }
    }

    /**
     * For a reclaim: the pages of {@code o} this kernel holds (with their access and version) and
     * those it gave back dirty without knowing whether the pager took them (with their data).
     * What is retained now is given again in the reclaim, so the next keepalive acknowledges it.
     */
    List<ReclaimedPage> reclaim(VmObject o) {
        List<ReclaimedPage> out = new ArrayList<>();
        o.forEachPage(p -> {
            Retained r = retained.get(p);
            if (!p.resident() && r == null) {
                return;
            }
            ReclaimedPage.Builder b = ReclaimedPage.newBuilder().setOffset(p.pageOffset).setVersion(p.version)
                    .setAccess(p.access == Access.READ_WRITE ? VmProt.VM_PROT_READ_WRITE
                            : p.access == Access.READ ? VmProt.VM_PROT_READ : VmProt.VM_PROT_NONE);
            if (r != null) {
                b.setVersion(r.version).setData(r.data);
                retained.put(p, new Retained(r.version, r.data, r.pager, nextKeepalive[r.pager]));
            }
            out.add(b.build());
        });
        return out;
    }

    /** Pages given back dirty whose taking the pager has not confirmed yet; for tests. */
    int count() {
        return retained.size();
    }
}
