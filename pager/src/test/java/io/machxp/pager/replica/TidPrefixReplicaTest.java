package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.replica.SessionClosed;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.replica.Tick;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * xp-spec 2.9 and 13.1 at a replicated pager: a hello's TID prefix is judged from the replicated
 * state, so every replica refuses the same hellos, one restored from a snapshot too (the
 * sessions' prefixes and the dead kernels' are in it).
 */
@ExtendWith(io.machxp.pager.core.QuietCoreLogs.class)
class TidPrefixReplicaTest {
    private static final long LEASE = 1_000_000_000L;
    private long clock = 1_000_000_000_000L;

    private PagerLogEntry.Builder entry(long advanceNanos) {
        clock += advanceNanos;
        return PagerLogEntry.newBuilder().setClockNanos(clock);
    }

    private List<PagerLogEntry> open(long session, String name, int tidPrefix) {
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true)
                .setTidPrefix(tidPrefix);
        return List.of(entry(1_000_000).setSessionOpened(SessionOpened.newBuilder().setSessionId(session)).build(),
                xp(session, 1, KernelToPager.newBuilder().setKernelHello(h)),
                xp(session, 2, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                        .setObjectId(7).setName("obj").setPageSize(ScriptedKernels.PAGE))));
    }

    private PagerLogEntry xp(long session, long index, KernelToPager.Builder m) {
        return entry(1_000_000).setKernelMessage(KernelMessage.newBuilder().setSessionId(session).setIndex(index)
                .setMessage(m)).build();
    }

    private static ReplicaCore replica(Said out) {
        return new ReplicaCore("p", ScriptedKernels.PAGE, ScriptedKernels.OBJECTS, LEASE, out, new PagerStats());
    }

    @Test
    void everyReplicaRefusesTheSameHellosOneRestoredFromASnapshotToo() throws Exception {
        Said saidA = new Said();
        ReplicaCore a = replica(saidA);
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        open(1, "d", 5).forEach(a::apply);
        a.apply(xp(1, 3, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0))));
        // w waits for futex 0, so d's death goes to it in a grant, which it has not released yet
        // (no futex nobody waits for, which the pager would record itself, xp-spec 8.7)
        open(9, "w", 9).forEach(a::apply);
        a.apply(xp(9, 3, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0))));
        a.apply(entry(1_000_000).setSessionClosed(SessionClosed.newBuilder().setSessionId(1)).build());
        for (int i = 0; i < 4; i++) { // d declared dead holding futex 0; w keeps its lease
            a.apply(entry(LEASE / 2).setTick(Tick.newBuilder()).build());
            a.apply(xp(9, 4 + i, KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder()
                    .setSequence(i + 1))));
        }
        open(2, "a", 6).forEach(a::apply);

        Said saidB = new Said();
        ReplicaCore b = replica(saidB);
        ReplicaSnapshot snapshot = a.snapshot();
        b.restore(ReplicaSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(snapshot.getCore().getDiedPrefixesList()).singleElement()
                .matches(k -> k.getKernelId() == 5 && k.getKernelName().equals("d"));
        assertThat(snapshot.getCore().getSessionsList()).extracting(s -> s.getTidPrefix())
                .containsExactlyInAnyOrder(9, 6);

        int from = saidA.said.size();
        List<PagerLogEntry> rest = new ArrayList<>();
        rest.addAll(open(3, "e", 5)); // d's TIDs may still be in futex 0's word
        rest.addAll(open(4, "f", 6)); // a has prefix 6
        rest.addAll(open(5, "g", 7));
        for (PagerLogEntry e : rest) {
            a.apply(e);
            b.apply(e);
        }
        List<String> after = saidA.said.subList(from, saidA.said.size());
        assertThat(after).as("the original's answers").hasSize(5);
        assertThat(after.get(0)).startsWith("3 EAGAIN").contains("'d'", "'e'");
        // the refusal asks w, which caches futex 0 under d's owner_died grant, for it back (deaths review MED-1)
        assertThat(after.get(1)).isEqualTo("9 MEMORY_OBJECT_RELINQUISH_FUTEX");
        assertThat(after.get(2)).startsWith("4 EEXIST").contains("'a'", "'f'");
        assertThat(after.subList(3, 5)).containsExactly("5 PAGER_WELCOME", "5 MEMORY_OBJECT_READY");
        assertThat(saidB.said).as("the restored replica's answers").isEqualTo(after);
        assertThat(b.snapshot()).isEqualTo(a.snapshot());
    }
}
