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
    private PagerStatusSnapshot() {}

    static PagerStatusReply of(String name, boolean inGrace, PagerSessions sessions, PagerFutexes futexes,
            PageCoherence pages) {
        PagerStatusReply.Builder r = PagerStatusReply.newBuilder().setPagerName(name)
                .setLeaseMs(sessions.leaseNanos() / 1_000_000).setInGrace(inGrace);
        sessions.all().stream().sorted(Comparator.comparing((KernelSession s) -> String.valueOf(s.kernelName))
                .thenComparingLong(s -> s.id)).forEach(s -> r.addSessions(SessionStatus.newBuilder()
                .setKernelName(String.valueOf(s.kernelName)).setKernelId(s.kernelId).setSessionId(s.id)
                .setLeaseLeftMs(sessions.leaseNanos() == 0 ? 0 : sessions.leaseLeftMillis(s))
                .setFutexesHeld(s.held.size()).setFutexesQueued(s.queued.size()).setBroken(s.broken)));
        futexes.all().stream().filter(f -> f.holder != null || !f.queue.isEmpty())
                .sorted(Comparator.comparing((FutexRecord f) -> f.key.object()).thenComparingLong(f -> f.key.offset()))
                .forEach(f -> {
                    FutexStatus.Builder b = FutexStatus.newBuilder().setObject(f.key.object())
                            .setOffset(f.key.offset()).setFencingToken(f.token).setOwnerDied(f.ownerDied);
                    if (f.holder != null) {
                        b.setHolder(String.valueOf(f.holder.kernelName));
                    }
                    f.queue.waiters().forEach(w -> b.addWaiters(FutexWaiter.newBuilder()
                            .setKernel(String.valueOf(w.getKey().kernelName)).setPriority(w.getValue())));
                    r.addFutexes(b);
                });
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
        r.addAllPages(held);
        return r.build();
    }
}
