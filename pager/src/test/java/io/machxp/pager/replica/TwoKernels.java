package io.machxp.pager.replica;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.LeaderStarted;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.replica.Tick;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A replica core's log written by hand for tests of the group clock, the genesis and session ids:
 * kernel A (session {@link #A}) holds the futex at offset 0 of object "obj", kernel B ({@link #B})
 * waits for it; the entries' clock readings are the test's. {@link Told} records what the core
 * said, a grant with its OWNER_DIED flag.
 */
final class TwoKernels {
    static final int PAGE = 4096;
    static final long L = 1_000_000_000L;
    static final Map<String, Long> OBJECTS = Map.of("obj", 4L * PAGE);
    static final long A = 1L << 32 | 1;
    static final long B = 1L << 32 | 2;

    private TwoKernels() {}

    /** What the core said, one line each: "SESSION ROUTINE [ownerDied=...]" or "SESSION ended ERRNO". */
    static final class Told implements ReplicaCore.Outlet {
        final List<String> said = new ArrayList<>();

        @Override
        public void send(long s, PagerToKernel m) {
            said.add(s + " " + m.getRoutineCase() + (m.hasMemoryObjectFutexGranted()
                    ? " ownerDied=" + m.getMemoryObjectFutexGranted().getOwnerDied() : ""));
        }

        @Override
        public void endSession(long s, Errno e, String m) {
            said.add(s + " ended " + e);
        }

        @Override
        public void endSession(long s, XpProtocolError e, String m) {
            said.add(s + " ended " + e);
        }

        boolean granted(long session) {
            return said.stream().anyMatch(s -> s.startsWith(session + " MEMORY_OBJECT_FUTEX_GRANTED"));
        }
    }

    static ReplicaCore core(Told out) {
        return new ReplicaCore("p", PAGE, OBJECTS, L, out, new PagerStats());
    }

    static PagerLogEntry at(long clock, PagerLogEntry.Builder b) {
        return b.setClockNanos(clock).build();
    }

    static PagerLogEntry genesis(long clock, Genesis.Builder g) {
        return at(clock, PagerLogEntry.newBuilder().setGenesis(g.setTokenEpoch(5).setTokenSeed(ByteString.copyFromUtf8("seed"))));
    }

    static PagerLogEntry opened(long clock, long session) {
        return at(clock, PagerLogEntry.newBuilder().setSessionOpened(SessionOpened.newBuilder().setSessionId(session)));
    }

    static PagerLogEntry xp(long clock, long session, KernelToPager.Builder m) {
        return at(clock, PagerLogEntry.newBuilder().setKernelMessage(KernelMessage.newBuilder().setSessionId(session)
                .setMessage(m)));
    }

    static PagerLogEntry tick(long clock) {
        return at(clock, PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance()));
    }

    static PagerLogEntry leaderStarted(long clock, long term) {
        return at(clock, PagerLogEntry.newBuilder().setLeaderStarted(LeaderStarted.newBuilder().setTerm(term)));
    }

    static KernelToPager.Builder hello(String name) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setResumable(true));
    }

    static KernelToPager.Builder init() {
        return KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7)
                .setName("obj").setPageSize(PAGE));
    }

    static KernelToPager.Builder lock() {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(7)
                .setOffset(0));
    }

    static KernelToPager.Builder keepalive(long sequence) {
        return KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(sequence));
    }

    /** The entries after a genesis: A and B open sessions, A locks the futex, B waits for it; at t0 .. t0 + 7. */
    static List<PagerLogEntry> aHoldsBWaits(long t0) {
        return List.of(opened(t0, A), xp(t0 + 1, A, hello("A")), xp(t0 + 2, A, init()), opened(t0 + 3, B),
                xp(t0 + 4, B, hello("B")), xp(t0 + 5, B, init()), xp(t0 + 6, A, lock()), xp(t0 + 7, B, lock()));
    }
}
