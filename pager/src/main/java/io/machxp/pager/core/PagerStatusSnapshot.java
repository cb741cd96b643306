package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.admin.FutexStatus;
import io.machxp.proto.admin.FutexWaiter;
import io.machxp.proto.admin.PageStatus;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.SessionStatus;
import java.util.Comparator;

/**
 * What {@code machxp status} shows of a pager, read on its core thread: sessions with their
 * leases, each futex held or waited for (holder, waiters in grant order with their priorities,
 * the latest fencing token), and each page a kernel holds (writer, readers), sorted for reading.
 */
final class PagerStatusSnapshot {
    /**
     * The most bytes of futexes and pages a reply lists, half for each list unless the other needs
     * less; the rest are counted ({@code futexes_omitted}, {@code pages_omitted}). A reply then fits
     * gRPC's default 4 MiB at every client, with room in a PagerWatch event for its traced messages.
     * Before, one kernel holding 200,000 futexes (it may hold 262,144) made every status call and
     * every watch fail RESOURCE_EXHAUSTED at the client.
     */
    static final int MAX_REPLY_BYTES = 2 << 20;

    private PagerStatusSnapshot() {}

    static PagerStatusReply of(String name, boolean inGrace, PagerSessions sessions, PagerFutexes futexes,
            PageCoherence pages) {
        PagerStatusReply.Builder r = PagerStatusReply.newBuilder().setPagerName(name)
                .setLeaseMs(sessions.leaseNanos() / 1_000_000).setInGrace(inGrace);
        sessions.all().stream().sorted(Comparator.comparing((KernelSession s) -> String.valueOf(s.kernelName))
                .thenComparingLong(s -> s.id)).forEach(s -> r.addSessions(SessionStatus.newBuilder()
                .setKernelName(String.valueOf(s.kernelName)).setKernelId(s.kernelId).setSessionId(s.id)
                .setLeaseLeftMs(sessions.leaseNanos() == 0 ? 0 : sessions.leases.leaseLeftMillis(s))
                .setFutexesHeld(s.held.size()).setFutexesQueued(s.queued.size()).setBroken(s.broken)));
        java.util.List<FutexRecord> kept = futexes.all().stream().filter(f -> f.holder != null || !f.queue.isEmpty())
                .sorted(Comparator.comparing((FutexRecord f) -> f.key.object()).thenComparingLong(f -> f.key.offset()))
                .toList();
        java.util.List<PageStatus> held = new java.util.ArrayList<>();
        pages.forEachHeld((key, writer, readers) -> {
            PageStatus.Builder b = PageStatus.newBuilder().setObject(key.object()).setOffset(key.offset());
            if (writer != null) {
                b.setWriter(String.valueOf(writer.kernelName));
            }
            readers.forEach(k -> b.addReaders(String.valueOf(k.kernelName)));
            held.add(b.build());
        });
        held.sort(Comparator.comparing(PageStatus::getObject).thenComparingLong(PageStatus::getOffset));
        // Each list gets half the bound, and what the other does not need of its half.
        long pagesNeed = 0;
        for (PageStatus p : held) {
            pagesNeed += listed(p);
        }
        long futexBytes = 0;
        long futexBudget = MAX_REPLY_BYTES - Math.min(pagesNeed, MAX_REPLY_BYTES / 2);
        for (FutexRecord f : kept) {
            FutexStatus s = status(f);
            if (futexBytes + listed(s) > futexBudget) {
                break;
            }
            futexBytes += listed(s);
            r.addFutexes(s);
        }
        r.setFutexesOmitted(kept.size() - r.getFutexesCount());
        long pageBytes = 0;
        for (PageStatus p : held) {
            if (futexBytes + pageBytes + listed(p) > MAX_REPLY_BYTES) {
                break;
            }
            pageBytes += listed(p);
            r.addPages(p);
        }
        r.setPagesOmitted(held.size() - r.getPagesCount());
        return r.build();
    }

    /** What listing {@code m} adds to the reply: its bytes, its tag and its length. */
    private static int listed(com.google.protobuf.Message m) {
        return m.getSerializedSize() + 4;
    }

    private static FutexStatus status(FutexRecord f) {
        FutexStatus.Builder b = FutexStatus.newBuilder().setObject(f.key.object())
                .setOffset(f.key.offset()).setFencingToken(f.token).setOwnerDied(f.ownerDied);
        if (f.holder != null) {
            b.setHolder(String.valueOf(f.holder.kernelName));
        }
        f.queue.waiters().forEach(w -> b.addWaiters(FutexWaiter.newBuilder()
                .setKernel(String.valueOf(w.getKey().kernelName)).setPriority(w.getValue())));
        return b.build();
    }
}
