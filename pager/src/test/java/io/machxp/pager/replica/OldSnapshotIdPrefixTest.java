package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Deaths review LOW-2: a snapshot written before {@code KernelIdImage.tid_prefix} restores the
 * prefixes of the ids of the kernels open in it from their sessions, so that a replica restored
 * from it holds what one that applied the log holds (else a dead writer's revert, judged by
 * prefix, could differ between replicas restored at different indexes).
 */
@ExtendWith(io.machxp.pager.core.QuietCoreLogs.class)
class OldSnapshotIdPrefixTest {
    private static final long LEASE = 1_000_000_000L;
    private long clock = 1_000_000_000_000L;

    private PagerLogEntry.Builder entry(long advanceNanos) {
        clock += advanceNanos;
        return PagerLogEntry.newBuilder().setClockNanos(clock);
    }

    private List<PagerLogEntry> open(long session, String name, int tidPrefix) {
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true);
        if (tidPrefix != 0) {
            h.setTidPrefix(tidPrefix);
        }
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
    void anOldSnapshotsIdsGetTheirOpenKernelsPrefixes() throws Exception {
        ReplicaCore a = replica(new Said());
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        open(1, "w", 9).forEach(a::apply); // primary elsewhere: id 1 here, prefix 9
        open(2, "v", 0).forEach(a::apply); // primary here: its id is its prefix
        ReplicaSnapshot snapshot = a.snapshot();
        assertThat(snapshot.getCore().getIdOwnersList()).extracting(k -> k.getTidPrefix()).contains(9);

        ReplicaSnapshot.Builder old = snapshot.toBuilder();
        for (int i = 0; i < old.getCore().getIdOwnersCount(); i++) {
            old.getCoreBuilder().getIdOwnersBuilder(i).clearTidPrefix(); // as written before the field
        }
        ReplicaCore b = replica(new Said());
        b.restore(ReplicaSnapshot.parseFrom(old.build().toByteArray()));
        assertThat(b.snapshot()).isEqualTo(snapshot);
    }
}
