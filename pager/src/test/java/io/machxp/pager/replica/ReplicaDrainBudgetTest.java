package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.PagerConfig;
import io.machxp.proto.transport.ClientPeer;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A peer past its bound (one host, NAT address or IPv6 /64 of many kernels) keeps the group's
 * pending under what the group applies in L/12 at its measured rate ({@link AppendBudget#LEASE_PARTS},
 * {@link DrainRate}): a quiet kernel of another peer is answered within that, and the busy host
 * keeps its room beside the other peer's messages (review halfwin LOW-1, LOW-2). Counted in the
 * log's order on a clock the test moves (one entry applied a millisecond), no timing. Bounds scaled
 * down: a group of 100 entries (half of it 50), a peer 10, 8 a stream; bytes do not bind.
 */
class ReplicaDrainBudgetTest extends ReplicaAppendHarness {
    private static final long MS = 1_000_000L;
    private long now;
    private int applied;
    private final List<Call> host = new ArrayList<>();
    private Call other;

    private static AppendBudget budget(DrainRate rate, long targetNanos) {
        return new AppendBudget(100, 1L << 30, 10, 1L << 30, 8, 1L << 30, rate, targetNanos, Runnable::run);
    }

    private static KernelToPager keepalive(int sequence) {
        return KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(sequence)).build();
    }

    /** 20 kernels of one host, each with 40 keepalives arrived: 160 by their windows, more than half the group. */
    private void busyHost(ReplicaXpService to) {
        ClientPeer peer = new ClientPeer("10.0.0.7", "");
        for (int k = 0; k < 20; k++) {
            host.add(kernel("K" + k, peer, to));
        }
        for (Call c : host) {
            for (int i = 0; i < 40; i++) {
                c.arrive(keepalive(i + 1));
            }
            c.deliver();
        }
    }

    /** The next entry in the log's order applied, a millisecond after the one before; the kernels' streams read on. */
    private void applyOne() {
        now += MS;
        commits.get(applied++).complete(true);
        host.forEach(Call::deliver);
        if (other != null) {
            other.deliver();
        }
    }

    /**
     * The group applies 1,000 entries a second (measured: a millisecond each), and L/12 is 30 ms
     * here: the host has at most 30 entries pending, and every keepalive of a kernel of another
     * host is applied behind at most those, 30 ms. Before, the host had half the group's window, 50,
     * pending whatever the rate, ahead of each of them (review halfwin LOW-1: 30,720 entries, about
     * a second, more than the L/6 after which a kernel counts its stream stalled).
     */
    @Test
    void aQuietPeersKeepaliveIsAppliedWithinTheTargetAtTheMeasuredRate() {
        AppendBudget b = budget(new DrainRate(() -> now), 30 * MS);
        ReplicaXpService to = new ReplicaXpService(group, new ReplicaStreams(), null, b);
        busyHost(to);
        assertThat(b.pending()[0]).as("no rate measured yet: the host at its bound").isEqualTo(10);
        while (applied < 100) { // two samples of 50 ms of busy time
            applyOne();
        }
        assertThat(b.spare()[0]).as("what the group applies in 30 ms").isEqualTo(30);
        assertThat(b.pending()[0]).as("the host's pending").isEqualTo(30);
        other = kernel("B", new ClientPeer("10.0.0.8", ""), to);
        for (int round = 1; round <= 3; round++) {
            other.arrive(keepalive(round));
            other.deliver();
            int at = log.lastIndexOf(other.session + " kernel_keepalive");
            assertThat(at).as("B's keepalive %d appended at once", round).isEqualTo(log.size() - 1);
            long ahead = log.subList(applied, at).stream().filter(e -> !e.startsWith(other.session + " ")).count();
            // Old: 50 (half the group's window) each time.
            assertThat(ahead).as("the host's entries applied before B's keepalive %d", round).isEqualTo(30);
            long start = now;
            while (!commits.get(at).isDone()) {
                applyOne();
            }
            assertThat(now - start).as("virtual time until B's keepalive %d is applied", round)
                    .isLessThanOrEqualTo(30 * MS + 2 * MS);
        }
        while (applied < commits.size()) {
            applyOne();
        }
        assertThat(log.stream().filter(e -> e.endsWith("kernel_keepalive")).count()).isEqualTo(20L * 40 + 3);
        assertThat(b.pending()).containsExactly(0, 0);
    }

    /**
     * While a message of another peer is pending, a host past its bound keeps its room: the group's
     * pending stays at what drains in the target (here half the group's window, 50: the group
     * applies fast), not at the host's bound. Before, one keepalive of another peer held the host
     * to its bound (10) until that keepalive was applied, behind the host's earlier entries (review
     * halfwin LOW-2: with kernels of other hosts sending a keepalive every L/8, a lone host was held
     * at 1,024 most of the time).
     */
    @Test
    void aHostKeepsItsRoomWhileAnotherPeersMessageIsPending() {
        AppendBudget b = budget(measuredRate(1e9, 1e15), 1_000 * MS);
        ReplicaXpService to = new ReplicaXpService(group, new ReplicaStreams(), null, b);
        busyHost(to);
        assertThat(b.pending()[0]).isEqualTo(50);
        other = kernel("B", new ClientPeer("10.0.0.8", ""), to);
        other.arrive(keepalive(1));
        other.deliver();
        int at = log.lastIndexOf(other.session + " kernel_keepalive");
        assertThat(b.pending()[0]).as("B's hello and keepalive beside the host's").isEqualTo(52);
        while (!commits.get(at).isDone()) {
            applyOne();
            // Old: down to 12, the host's bound and B's two.
            assertThat(b.pending()[0]).as("pending after %d applied, B's keepalive not yet", applied).isGreaterThanOrEqualTo(50);
        }
    }

    /**
     * Once the other peer's entries are applied, the host has all its room again, and the other
     * peer's next keepalive is appended at once (the halfwin review's probe, adopted).
     */
    @Test
    void aHostHasItsRoomAgainOnceTheOtherPeersEntriesAreApplied() {
        AppendBudget b = budget(measuredRate(1e9, 1e15), 1_000 * MS);
        ReplicaXpService to = new ReplicaXpService(group, new ReplicaStreams(), null, b);
        busyHost(to);
        other = kernel("B", new ClientPeer("10.0.0.8", ""), to);
        other.arrive(keepalive(1));
        other.deliver();
        int at = log.lastIndexOf(other.session + " kernel_keepalive");
        while (!commits.get(at).isDone()) {
            applyOne();
        }
        assertThat(b.pending()[0]).as("the host's alone, B's applied").isEqualTo(50);
        assertThat(log.subList(applied, log.size())).as("only the host's pending").allMatch(e -> !e.startsWith(other.session + " "));
        other.arrive(keepalive(2));
        other.deliver();
        assertThat(log.get(log.size() - 1)).as("B's next keepalive, appended at once").isEqualTo(other.session + " kernel_keepalive");
        assertThat(b.pending()[0]).isEqualTo(51);
        while (applied < commits.size()) {
            applyOne();
        }
        assertThat(b.pending()).containsExactly(0, 0);
    }

    /**
     * A peer alone is never held below its bound: not before a rate is measured, not when the group
     * applies slowly (what drains in the target is less than the bound), not when half the group's
     * window is less than the bound (the {@code Math.max} floor of {@link AppendBudget#spare}).
     */
    @Test
    void aPeerAloneAlwaysHasItsBound() {
        AppendBudget[] budgets = {
            budget(new DrainRate(() -> 0L), 30 * MS), // no rate yet
            budget(measuredRate(1, 1), 1_000 * MS), // one entry a second: 1 in the target
            new AppendBudget(12, 1L << 30, 10, 1L << 30, 8, 1L << 30, measuredRate(1e9, 1e15), 1_000 * MS,
                    Runnable::run), // half the group, 6, under the bound
        };
        for (AppendBudget b : budgets) {
            log.clear();
            commits.clear();
            sizes.clear();
            host.clear();
            busyHost(new ReplicaXpService(group, new ReplicaStreams(), null, b));
            assertThat(b.spare()[0]).isEqualTo(10);
            assertThat(b.pending()[0]).as("a peer alone, at its bound").isEqualTo(10);
            while (commits.stream().anyMatch(c -> !c.isDone())) {
                commits.stream().filter(c -> !c.isDone()).findFirst().get().complete(true);
                host.forEach(Call::deliver);
            }
            assertThat(b.pending()).containsExactly(0, 0);
        }
    }

    /**
     * The production bounds leave room past a peer's bound (half the group's window is more than
     * a peer's, for entries and bytes), and the target is a twelfth of the lease (the default's
     * when there is none).
     */
    @Test
    void theProductionBoundsLeaveRoomPastAPeersBound() {
        assertThat(AppendBudget.GROUP_ENTRIES / AppendBudget.ALONE_SHARE).isGreaterThan(AppendBudget.PEER_IN_FLIGHT);
        assertThat(AppendBudget.GROUP_BYTES / AppendBudget.ALONE_SHARE).isGreaterThan(AppendBudget.PEER_BYTES);
        assertThat(AppendBudget.targetNanos(0)).isEqualTo(PagerConfig.DEFAULT_LEASE.toNanos() / 12);
        assertThat(AppendBudget.targetNanos(2_000 * MS)).isEqualTo(2_000 * MS / 12);
        AppendBudget b = new AppendBudget(0, () -> 0L, Runnable::run);
        assertThat(b.spare()).as("no rate yet: a peer's bound").containsExactly(AppendBudget.PEER_IN_FLIGHT,
                AppendBudget.PEER_BYTES);
    }
}
