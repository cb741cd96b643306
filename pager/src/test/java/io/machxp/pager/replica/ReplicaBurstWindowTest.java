package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import io.machxp.proto.transport.ClientPeer;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
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
class ReplicaBurstWindowTest extends ReplicaAppendHarness {
    private static final int BURST = 10_000;

    /**
     * Held messages are appended at once, on the thread that made room (deterministic); the clock
     * stands still, so no apply rate is measured and a peer is held to its bound unless a test
     * gives a rate ({@link #measuredRate}).
     */
    private final AppendBudget budget = new AppendBudget(0, () -> 0L, Runnable::run);
    private final ReplicaXpService xp = new ReplicaXpService(group, new ReplicaStreams(), null, budget);

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

    /**
     * 64 kernels flushing 4 MiB data_returns at once (a lock_request flush of a large object each)
     * stay under Ratis's pending-write byte limit: before, the windows were only per stream (one
     * such message each, 64 x 4 MiB = 256 MiB and more), Ratis refused the appends past its limit,
     * and each refusal ended a stream as if the leader had stopped leading (review late10 M2).
     */
    @Test
    void manyKernelsFlushingLargeMessagesAtOnceStayUnderRatisLimits() {
        int kernels = 64;
        int each = 3;
        List<Call> calls = new ArrayList<>();
        for (int k = 0; k < kernels; k++) {
            calls.add(kernel("K" + k, new ClientPeer("10.0.1." + k, ""))); // a host each: only the group's budget binds
        }
        ByteString page = ByteString.copyFrom(new byte[4 << 20]);
        for (Call c : calls) {
            for (int i = 0; i < each; i++) {
                c.arrive(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                        .setObjectId(1).setOffset((long) i << 22).setData(page).setDirty(true)).build());
            }
        }
        calls.forEach(Call::deliver);
        int applied = 0;
        while (applied < commits.size()) {
            assertThat(refused).as("appends Ratis refused for its pending bytes").isZero();
            commits.get(applied++).complete(true);
            calls.forEach(Call::deliver);
        }
        assertThat(refused).isZero();
        assertThat(log.stream().filter(e -> e.endsWith("memory_object_data_return")).count())
                .isEqualTo((long) kernels * each);
        assertThat(budget.pending()).containsExactly(0, 0);
        assertThat(AppendBudget.GROUP_ENTRIES).isLessThan(RaftSettings.PENDING_WRITES);
    }

    /**
     * One host's many sessions share one budget: before, each stream had its window, and 32
     * sessions of one host put 32 x 64 = 2,048 lock_futex in the log ahead of another kernel's
     * keepalive (review burst M2).
     */
    @Test
    void oneHostsManySessionsShareOnePeerBudget() {
        ClientPeer host = new ClientPeer("10.0.0.7", "");
        List<Call> sessionsOfHost = new ArrayList<>();
        for (int k = 0; k < 32; k++) {
            sessionsOfHost.add(kernel("A" + k, host));
        }
        Call b = kernel("B", new ClientPeer("10.0.0.8", ""));
        for (int k = 0; k < 32; k++) {
            for (int i = 0; i < 1000; i++) {
                sessionsOfHost.get(k).arrive(KernelToPager.newBuilder().setMemoryObjectLockFutex(
                        MemoryObjectLockFutex.newBuilder().setObjectId(1).setOffset(4L * (k * 1000 + i))).build());
            }
        }
        b.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        sessionsOfHost.forEach(Call::deliver);
        b.deliver();
        int keepalive = log.indexOf(b.session + " kernel_keepalive");
        assertThat(keepalive).as("B's keepalive in the log").isNotNegative();
        long burstFirst = log.subList(0, keepalive).stream().filter(e -> e.endsWith("memory_object_lock_futex")).count();
        assertThat(burstFirst).as("the host's lock_futex appended before B's keepalive")
                .isLessThanOrEqualTo(AppendBudget.PEER_IN_FLIGHT);

        int applied = 0;
        while (applied < commits.size()) {
            commits.get(applied++).complete(true);
            if (applied <= keepalive) {
                // The host's, and B's hello and keepalive (applied in the log's order).
                assertThat(budget.pending()[0]).isLessThanOrEqualTo(AppendBudget.PEER_IN_FLIGHT + 2);
            } else {
                // B has nothing pending: the host alone in the group has a window per stream (tb MED-1).
                assertThat(budget.pending()[0]).isLessThanOrEqualTo(32L * AppendWindow.DEFAULT_IN_FLIGHT);
            }
        }
        assertThat(log.stream().filter(e -> e.endsWith("memory_object_lock_futex")).count()).isEqualTo(32_000);
        assertThat(budget.pending()).containsExactly(0, 0);
        assertThat(budget.peers()).as("the host and B, still open").isEqualTo(2);
    }

    /**
     * One host alone in the group (all kernels on loopback, or behind one NAT address) is not held to
     * the peer bound while the group applies fast enough: it may have a window per stream pending, as
     * before the peer bound (review tb MED-1: it was capped at 1,024). Here the group applies a
     * million entries a second, so L/12 of the default lease is 416,666: the half of the group's
     * window binds, not the rate.
     */
    @Test
    void oneHostAloneInTheGroupHasAWindowPerStream() {
        AppendBudget fast = new AppendBudget(AppendBudget.GROUP_ENTRIES, AppendBudget.GROUP_BYTES,
                AppendBudget.PEER_IN_FLIGHT, AppendBudget.PEER_BYTES, AppendBudget.STREAM_IN_FLIGHT,
                AppendBudget.STREAM_BYTES, measuredRate(1e6, 1e12), AppendBudget.targetNanos(0), Runnable::run);
        ReplicaXpService to = new ReplicaXpService(group, new ReplicaStreams(), null, fast);
        ClientPeer host = new ClientPeer("127.0.0.1", "");
        List<Call> ks = new ArrayList<>();
        for (int k = 0; k < 64; k++) {
            ks.add(kernel("K" + k, host, to));
        }
        for (Call c : ks) {
            for (int i = 0; i < 64; i++) {
                c.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(i + 1)).build());
            }
            c.deliver();
        }
        // Old: 1,024 (the peer bound) with the group idle.
        assertThat(fast.pending()[0]).as("the host's pending, nothing applied").isEqualTo(64L * AppendWindow.DEFAULT_IN_FLIGHT);
        Call b = kernel("B", new ClientPeer("10.0.0.8", ""), to);
        assertThat(log.get(log.size() - 1)).as("another peer's hello is appended at once").isEqualTo(b.session + " kernel_hello");
        int applied = 0;
        while (applied < commits.size()) {
            commits.get(applied++).complete(true);
            ks.forEach(Call::deliver);
        }
        assertThat(log.stream().filter(e -> e.endsWith("kernel_keepalive")).count()).isEqualTo(64L * 64);
        assertThat(fast.pending()).containsExactly(0, 0);
    }

    /**
     * A peer alone in the group has at most half the group's entries pending, however fast the
     * group applies, so a kernel of another peer that then speaks finds room at once (review late13
     * LOW-3: a host with many streams filled the whole group window while alone, and the newcomer's
     * hello and first keepalive waited behind all of it). Bounds scaled down: a group of 100
     * entries, a peer 10, 8 a stream; the host's 20 streams would be 160 alone.
     */
    @Test
    void aPeerAloneLeavesHalfTheGroupsEntriesForANewcomer() {
        AppendBudget small = new AppendBudget(100, 1L << 30, 10, 1L << 30, 8, 1L << 30, measuredRate(1e9, 1e15),
                1_000_000_000L, Runnable::run);
        ReplicaXpService to = new ReplicaXpService(group, new ReplicaStreams(), null, small);
        ClientPeer host = new ClientPeer("10.0.0.7", "");
        List<Call> ks = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            ks.add(kernel("K" + k, host, to));
        }
        for (Call c : ks) {
            for (int i = 0; i < 8; i++) {
                c.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(i + 1)).build());
            }
            c.deliver();
        }
        // Old: 100, the whole group.
        assertThat(small.pending()[0]).as("the host's pending alone, nothing applied").isEqualTo(50);
        Call b = kernel("B", new ClientPeer("10.0.0.8", ""), to);
        b.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        b.deliver();
        // Old: B's hello and keepalive held until the group had room again.
        assertThat(log.subList(log.size() - 2, log.size())).as("the newcomer's hello and keepalive, appended at once")
                .containsExactly(b.session + " kernel_hello", b.session + " kernel_keepalive");
        long hostFirst = log.stream().filter(e -> e.endsWith("kernel_keepalive") && !e.startsWith(b.session + " ")).count();
        assertThat(hostFirst).as("the host's keepalives ahead of B's").isLessThanOrEqualTo(50 - 20);
        int applied = 0;
        while (applied < commits.size()) {
            commits.get(applied++).complete(true);
            ks.forEach(Call::deliver);
        }
        assertThat(log.stream().filter(e -> e.endsWith("kernel_keepalive")).count()).isEqualTo(20L * 8 + 1);
        assertThat(small.pending()).containsExactly(0, 0);
    }

    /**
     * The same for bytes: a peer alone in the group has at most half the group's bytes pending (and
     * one message past it) however fast the group applies, so a newcomer's keepalive is behind at
     * most that much, not the whole group's (review late13 LOW-3: 128 streams sending 2 MiB
     * data_returns filled 256 MiB). Scaled down: a group of 16 MiB, a peer and a stream 2 MiB; the
     * host's 16 streams would be 32 MiB alone.
     */
    @Test
    void aPeerAloneLeavesHalfTheGroupsBytesForANewcomer() {
        long groupBytes = 16L << 20;
        AppendBudget small = new AppendBudget(10_000, groupBytes, 1_000, 2L << 20, 1_000, 2L << 20,
                measuredRate(1e9, 1e15), 1_000_000_000L, Runnable::run);
        ReplicaXpService to = new ReplicaXpService(group, new ReplicaStreams(), null, small);
        ClientPeer host = new ClientPeer("10.0.0.7", "");
        List<Call> ks = new ArrayList<>();
        for (int k = 0; k < 16; k++) {
            ks.add(kernel("K" + k, host, to));
        }
        ByteString page = ByteString.copyFrom(new byte[1 << 20]);
        for (Call c : ks) {
            for (int i = 0; i < 2; i++) {
                c.arrive(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                        .setObjectId(1).setOffset((long) i << 20).setData(page).setDirty(true)).build());
            }
            c.deliver();
        }
        long largest = (1L << 20) + 1024;
        // Old: 15 data_returns, all the group had room for.
        assertThat(small.pending()[1]).as("the host's bytes pending alone, nothing applied")
                .isLessThanOrEqualTo(groupBytes / 2 + largest);
        Call b = kernel("B", new ClientPeer("10.0.0.8", ""), to);
        b.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        b.deliver();
        assertThat(log.get(log.size() - 1)).as("the newcomer's keepalive, appended at once").isEqualTo(b.session + " kernel_keepalive");
        long returnsFirst = log.stream().filter(e -> e.endsWith("memory_object_data_return")).count();
        assertThat(returnsFirst).as("the host's 1 MiB data_returns ahead of B's keepalive").isLessThanOrEqualTo(9);
        int applied = 0;
        while (applied < commits.size()) {
            commits.get(applied++).complete(true);
            ks.forEach(Call::deliver);
        }
        assertThat(log.stream().filter(e -> e.endsWith("memory_object_data_return")).count()).isEqualTo(32);
        assertThat(small.pending()).containsExactly(0, 0);
    }

    /** A stream's end comes after the message it holds, in the log: its session_closed follows that message. */
    @Test
    void aHeldMessageIsAppendedBeforeTheStreamsEnd() {
        AppendBudget tight = new AppendBudget(1_000, 1L << 30, 1, 1L << 30, Runnable::run);
        ReplicaXpService one = new ReplicaXpService(group, new ReplicaStreams(), null, tight);
        ClientPeer host = new ClientPeer("10.0.0.7", "");
        Call a = kernel("A", host, one);
        Call c = kernel("C", host, one); // its hello is held: A's is pending, and the host may have one
        assertThat(log).containsExactly(a.session + " kernel_hello");
        c.halfClosed = true;
        c.deliver();
        assertThat(log).as("C's end waits for its held hello").hasSize(1);
        commits.get(0).complete(true);
        assertThat(log).containsExactly(a.session + " kernel_hello", c.session + " kernel_hello",
                c.session + " session_closed");
        commits.get(1).complete(true);
        assertThat(tight.pending()).containsExactly(0, 0);
    }

    /**
     * An append Ratis refused for its pending-write limits ends the stream saying so, not as a
     * change of leader (review late10 M2).
     */
    @Test
    void anAppendRefusedForLoadEndsTheStreamSayingSo() {
        Throwable refusal = catchThrowable(() -> AppendRefused.throwIfRefused(null,
                new java.util.concurrent.CompletionException(new ResourceUnavailableException("limits reached"))));
        assertThat(refusal).isInstanceOf(AppendRefused.class);
        assertThatCode(() -> AppendRefused.throwIfRefused(null, new java.io.IOException("not the leader")))
                .doesNotThrowAnyException();
        Call a = kernel("A");
        failAppends = refusal;
        a.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        a.deliver();
        assertThat(a.ended).isNotNull();
        assertThat(a.ended.getMessage()).contains("overloaded", "still leads").doesNotContain("no longer the leader");
    }

    /**
     * A stream the pager ends itself (an append refused) leaves its peer: grpc-java gives it neither
     * onError nor onCompleted then, only the close handler (review tb LOW-2: the peer stayed for good).
     */
    @Test
    void aStreamThePagerEndsLeavesItsPeer() {
        Call a = kernel("A", new ClientPeer("10.0.0.9", ""));
        commits.get(0).complete(true); // its hello applied
        failAppends = catchThrowable(() -> AppendRefused.throwIfRefused(null,
                new java.util.concurrent.CompletionException(new ResourceUnavailableException("limits reached"))));
        a.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        a.deliver();
        assertThat(a.ended).isNotNull();
        assertThat(budget.pending()).containsExactly(0, 0);
        assertThat(budget.peers()).as("peers with a stream open or something pending").isZero();
    }

    private Call kernel(String name) {
        return kernel(name, null, xp);
    }

    private Call kernel(String name, ClientPeer peer) {
        return kernel(name, peer, xp);
    }
}
