package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.replica.Tick;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A kernel that opens streams in a loop must not make the replicated state grow without bound:
 * the replica keeps, per stream, the index its next kernel message must have (ReplicaCore's
 * stream_next, in every snapshot), and before this bound it forgot an entry only on a clean
 * session_closed. A stream the pager ended (a hello it refused), or one that broke and whose lease
 * ran out, left its entry for the group's life, where the unreplicated pager keeps nothing of
 * either (docs/limits.md). Probed on the log alone, as every replica applies it.
 */
class StreamRecordsBoundTest {
    private static final int PAGE = 4096;
    private static final long LEASE = 1_000_000_000L;
    private static final long T0 = 1_000_000_000_000L;

    /** Counts what the core said, and nothing else. */
    private static final class Counted implements ReplicaCore.Outlet {
        final List<String> ends = new ArrayList<>();
        int sent;

        @Override
        public void send(long sessionId, PagerToKernel message) {
            sent++;
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            ends.add(errno.name());
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            ends.add(error.name());
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
            ends.add("EIO");
        }
    }

    private static PagerLogEntry opened(long clock, long session) {
        return PagerLogEntry.newBuilder().setClockNanos(clock)
                .setSessionOpened(SessionOpened.newBuilder().setSessionId(session)).build();
    }

    private static PagerLogEntry hello(long clock, long session, String name, int version) {
        return PagerLogEntry.newBuilder().setClockNanos(clock).setKernelMessage(KernelMessage.newBuilder()
                .setSessionId(session).setIndex(1).setMessage(KernelToPager.newBuilder().setKernelHello(
                        KernelHello.newBuilder().setKernelName(name).setProtocolVersion(version).setResumable(true))))
                .build();
    }

    @Test
    void streamsThePagerEndedOrWhoseLeaseRanOutLeaveNoRecordBehind() {
        Counted outA = new Counted();
        Counted outB = new Counted();
        ReplicaCore a = new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), LEASE, outA, new PagerStats());
        ReplicaCore b = new ReplicaCore("p", PAGE, Map.of("obj", 4L * PAGE), LEASE, outB, new PagerStats());
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        long clock = T0;
        long session = 1L << 32;
        // 5,000 streams whose hello the pager refuses (a version it does not speak, 3.2): each ends.
        for (int i = 0; i < 5_000; i++) {
            log.add(opened(++clock, ++session));
            log.add(hello(++clock, session, "k" + i, 0));
        }
        // 500 welcomed kernels whose streams break: at a replicated pager nothing is appended for
        // a break, and the session lasts until its lease runs out unheard.
        for (int i = 0; i < 500; i++) {
            log.add(opened(++clock, ++session));
            log.add(hello(++clock, session, "w" + i, 1));
        }
        log.add(PagerLogEntry.newBuilder().setClockNanos(clock + 3 * LEASE).setTick(Tick.getDefaultInstance()).build());
        for (PagerLogEntry e : log) {
            a.apply(e);
            b.apply(e);
        }
        assertThat(outA.ends).as("every refused hello ended its stream").filteredOn("EPROTONOSUPPORT"::equals)
                .hasSize(5_000);
        assertThat(a.core().snapshot().getSessionsCount()).as("the core kept no session").isZero();
        assertThat(a.snapshot().getStreamNextCount()).as("stream records left by 5,500 streams the core forgot")
                .isLessThanOrEqualTo(ReplicaCore.STALE_STREAM_RECORDS);
        assertThat(a.snapshot()).as("both replicas kept the same").isEqualTo(b.snapshot());
    }
}
