package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * At a replicated pager the group's log is one queue for every kernel: a kernel's burst appended
 * as fast as it arrives put all of it ahead of another kernel's keepalive, which then waited for
 * the whole burst to be committed and applied (the xpprobe's cache_stall; docs/limits.md). Now a
 * stream has at most {@link AppendWindow#DEFAULT_IN_FLIGHT} messages appended and not applied.
 * Counted in the log's order, no timing: gRPC's delivery is modelled (what arrived is handed over
 * while requested, automatically one more after each unless the service disabled that), and the
 * test applies the entries when it chooses.
 */
class ReplicaBurstWindowTest {
    private static final int BURST = 10_000;

    private final List<String> log = new ArrayList<>();
    private final List<CompletableFuture<Boolean>> commits = new ArrayList<>();
    /** The size of each appended kernel message, by the order of {@link #commits}. */
    private final List<Integer> sizes = new ArrayList<>();
    private long sessions;
    private final ReplicaXpService xp = new ReplicaXpService(new ReplicaXpService.Group() {
        @Override
        public boolean takesKernels() {
            return true;
        }

        @Override
        public Opened openSession(java.util.function.LongConsumer hold) {
            long id = ++sessions;
            hold.accept(id);
            return new Opened(id, CompletableFuture.completedFuture(true));
        }

        @Override
        public String[] leader() {
            return null;
        }

        @Override
        public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
            KernelToPager m = entry.getKernelMessage().getMessage();
            log.add(entry.getKernelMessage().getSessionId() + " " + m.getRoutineCase().name().toLowerCase());
            CompletableFuture<Boolean> commit = new CompletableFuture<>();
            commits.add(commit);
            sizes.add(m.getSerializedSize());
            return commit;
        }

        @Override
        public String id() {
            return "r";
        }
    }, new ReplicaStreams());

    @Test
    void aKeepaliveArrivingWithABurstIsAppendedBehindAtMostAWindowOfIt() {
        Call a = kernel("A");
        Call b = kernel("B");
        for (int i = 0; i < BURST; i++) {
            a.arrive(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(1).setOffset(4L * i)).build());
        }
        b.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        a.deliver();
        b.deliver();
        int keepalive = log.indexOf("2 kernel_keepalive");
        assertThat(keepalive).as("B's keepalive in the log").isNotNegative();
        long burstFirst = log.subList(0, keepalive).stream().filter("1 memory_object_lock_futex"::equals).count();
        // Old: 10,000 (every lock_futex that had arrived).
        assertThat(burstFirst).as("A's lock_futex appended before B's keepalive")
                .isLessThanOrEqualTo(AppendWindow.DEFAULT_IN_FLIGHT);

        // As entries are applied, the rest of the burst comes, never more than a window unapplied.
        int applied = 0;
        while (applied < commits.size()) {
            commits.get(applied++).complete(true);
            a.deliver();
            long unapplied = commits.stream().filter(c -> !c.isDone()).count();
            assertThat(unapplied).isLessThanOrEqualTo(2L * AppendWindow.DEFAULT_IN_FLIGHT);
        }
        assertThat(log.stream().filter("1 memory_object_lock_futex"::equals).count()).isEqualTo(BURST);
    }

    /**
     * A flush of large data_returns (4 MiB each, the largest message a kernel may send) is not all
     * appended at once: 64 of them were 256 MiB pending in Ratis, whose default limit is 64 MB (the
     * append past it failed and ended the stream, and the kernel resumed and sent them again).
     */
    @Test
    void largeMessagesAreAppendedAFewMiBAtATime() {
        Call a = kernel("A");
        int big = 20;
        ByteString page = ByteString.copyFrom(new byte[4 << 20]);
        for (int i = 0; i < big; i++) {
            a.arrive(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset((long) i << 22).setData(page).setDirty(true)).build());
        }
        a.deliver();
        long most = 0;
        int applied = 0;
        while (true) {
            most = Math.max(most, pendingBytes());
            if (applied == commits.size()) {
                break;
            }
            commits.get(applied++).complete(true);
            a.deliver();
        }
        assertThat(log.stream().filter("1 memory_object_data_return"::equals).count()).isEqualTo(big);
        // Old: all 20 at once, 80 MiB.
        assertThat(most).as("bytes appended and not applied, at most").isLessThanOrEqualTo(
                AppendWindow.MAX_BYTES + RaftSettings.MAX_ENTRY_BYTES).isLessThan(64L << 20);
        assertThat(RaftSettings.PENDING_WRITE_BYTES).isGreaterThan(AppendWindow.MAX_BYTES + RaftSettings.MAX_ENTRY_BYTES);
    }

    private long pendingBytes() {
        long n = 0;
        for (int i = 0; i < commits.size(); i++) {
            n += commits.get(i).isDone() ? 0 : sizes.get(i);
        }
        return n;
    }

    private Call kernel(String name) {
        Call c = new Call();
        c.listener = xp.connect(c);
        if (c.auto) {
            c.request(1); // what gRPC's ServerCalls does after the method returns
        }
        c.arrive(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setResumable(true)).build());
        c.deliver();
        return c;
    }

    /** A kernel's call as gRPC runs it: what arrived is handed over while requested. */
    private static final class Call extends StubServerCall {
        final ArrayDeque<KernelToPager> arrived = new ArrayDeque<>();
        StreamObserver<KernelToPager> listener;
        boolean auto = true;
        int requested;
        boolean delivering;

        void arrive(KernelToPager m) {
            arrived.add(m);
        }

        @Override
        public void disableAutoRequest() {
            auto = false;
        }

        @Override
        public void request(int count) {
            requested += count;
            deliver();
        }

        void deliver() {
            if (delivering || listener == null) {
                return;
            }
            delivering = true;
            try {
                while (requested > 0 && !arrived.isEmpty()) {
                    requested--;
                    listener.onNext(arrived.poll());
                    if (auto) {
                        requested++;
                    }
                }
            } finally {
                delivering = false;
            }
        }
    }
}
