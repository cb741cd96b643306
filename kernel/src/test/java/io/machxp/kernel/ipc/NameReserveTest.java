package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.transport.ClientPeer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * Review late3 A1: the peer rule "make a name only while the kernel has more free than your peer
 * holds" let free names halve with each greedy peer, and 22 peers (one local process with 22
 * loopback source addresses) took all 2^20; then in-process tasks and honest servers failed too.
 * Now remote clients share a pool that leaves a reserve for tasks without an owner, and a peer's
 * share of the pool is bounded by a fixed fraction of it as well as by the names still free
 * ({@link NameBudget}). The numbers are the default budget's: 2^20 names, a reserve of 131,072,
 * a pool of 917,504, a peer's share 114,688.
 */
class NameReserveTest {
    private static final int MAX = 1 << 20;
    private static final int RESERVE = MAX / 8;
    private static final int SHARE = (MAX - RESERVE) / 8;

    /** A connection of a peer, as the kernel's gRPC server makes them. */
    private record Conn(int n, Object peer) implements NameOwner {}

    private static Conn host(int i) throws Exception {
        return new Conn(i, ClientPeer.of(new InetSocketAddress(
                InetAddress.getByName("10.0." + (i / 250) + "." + (i % 250 + 1)), 40000), null));
    }

    /** Takes names for {@code c} until refused; returns how many. */
    private static int takeAll(NameBudget b, Object c) {
        int n = 0;
        while (!b.exhausted(c)) {
            b.taken(c);
            n++;
        }
        return n;
    }

    @Test
    void twentyTwoGreedyPeersLeaveTheReserveToInProcessTasks() throws Exception {
        NameBudget b = new NameBudget();
        for (int i = 0; i < 22; i++) {
            assertThat(takeAll(b, host(i))).as("peer %d", i).isLessThanOrEqualTo(SHARE);
        }
        assertThat(b.max() - b.used()).as("names left free by 22 greedy peers").isGreaterThanOrEqualTo(RESERVE);
        int more = 22;
        while (!b.exhausted(host(more))) { // not promised: enough peers use up the remote pool
            takeAll(b, host(more++));
        }
        assertThat(more).as("greedy peers that use up the remote pool").isLessThan(64);
        assertThat(b.max() - b.used()).as("and still leave the reserve").isEqualTo(RESERVE);
        for (int i = 0; i < RESERVE; i++) {
            assertThat(b.exhausted(null)).as("in-process tasks make their %dth name", i + 1).isFalse();
            b.taken(null);
        }
        assertThat(b.exhausted(null)).as("the budget itself").isTrue();
    }

    @Test
    void thousandsOfPeersStillLeaveTheReserve() throws Exception {
        NameBudget b = new NameBudget();
        for (int i = 0; i < 2_000; i++) {
            takeAll(b, host(i));
        }
        assertThat(b.max() - b.used()).isGreaterThanOrEqualTo(RESERVE);
        assertThat(b.exhausted(null)).isFalse();
    }

    /**
     * The stated share: with k greedy peers, a peer holding nothing can take min(share, (8 - k)
     * shares / 2): its whole share for k up to 6, half of it for k = 7; and never more than its share.
     */
    @Test
    void anHonestPeerGetsItsStatedShareBesideKGreedyPeers() throws Exception {
        for (int k = 0; k < 8; k++) {
            NameBudget b = new NameBudget();
            for (int i = 0; i < k; i++) {
                takeAll(b, host(i));
            }
            int honest = takeAll(b, host(500));
            assertThat(honest).as("an honest peer beside %d greedy ones", k)
                    .isGreaterThanOrEqualTo(Math.min(SHARE, (8 - k) * SHARE / 2)).isLessThanOrEqualTo(SHARE);
            assertThat(b.exhausted(null)).isFalse();
        }
    }

    @Test
    void oneLocalClientWithManyLoopbackAddressesIsOnePeer() throws Exception {
        NameBudget b = new NameBudget();
        int taken = 0;
        for (int i = 0; i < 1023; i++) {
            taken += takeAll(b, new Conn(i, ClientPeer.of(new InetSocketAddress(
                    InetAddress.getByName("127.0." + (i / 250) + "." + (i % 250 + 2)), 40000), null)));
        }
        assertThat(taken).as("one share, whatever its source addresses").isLessThanOrEqualTo(SHARE);
        Conn honest = host(7);
        assertThat(takeAll(b, honest)).as("an honest server on another host: its whole share").isEqualTo(SHARE);
    }

    @Test
    void namesGivenBackAreThePoolsAgain() throws Exception {
        NameBudget b = new NameBudget();
        Conn c = host(1);
        int n = takeAll(b, c);
        b.given(c);
        assertThat(b.exhausted(c)).isFalse();
        b.taken(c);
        assertThat(b.exhausted(c)).isTrue();
        assertThat(b.used()).isEqualTo(n);
    }
}
