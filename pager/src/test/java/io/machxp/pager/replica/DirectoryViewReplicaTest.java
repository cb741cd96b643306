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
import io.machxp.proto.xp.PagerDirectoryView;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * xp-spec 2.8 and 13.1 at a replicated pager: a hello's pager directory view is judged against the
 * views of the open sessions, which are replicated state, so every replica refuses the same hellos,
 * one restored from a snapshot too (each session's view is in its image).
 */
@ExtendWith(io.machxp.pager.core.QuietCoreLogs.class)
class DirectoryViewReplicaTest {
    private static final long LEASE = 1_000_000_000L;
    private long clock = 1_000_000_000_000L;

    private PagerLogEntry.Builder entry(long advanceNanos) {
        clock += advanceNanos;
        return PagerLogEntry.newBuilder().setClockNanos(clock);
    }

    /** A view of two pagers, this one pager 0, with object 'obj' assigned to {@code objPager}. */
    private static PagerDirectoryView view(int objPager) {
        return PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0)
                .addAssignments("obj=" + objPager).build();
    }

    private List<PagerLogEntry> open(long session, String name, int tidPrefix, PagerDirectoryView view) {
        return open(session, name, tidPrefix, view, "");
    }

    /** Session {@code session} opened from {@code peer} (session_opened.peer; "": none). */
    private List<PagerLogEntry> open(long session, String name, int tidPrefix, PagerDirectoryView view, String peer) {
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true)
                .setTidPrefix(tidPrefix).setDirectory(view);
        return List.of(entry(1_000_000).setSessionOpened(SessionOpened.newBuilder().setSessionId(session)
                .setPeer(peer)).build(),
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
    void everyReplicaRefusesTheSameMismatchingHelloOneRestoredFromASnapshotToo() throws Exception {
        Said saidA = new Said();
        ReplicaCore a = replica(saidA);
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        open(1, "x", 5, view(0)).forEach(a::apply); // x sends 'obj' here: the reference

        Said saidB = new Said();
        ReplicaCore b = replica(saidB);
        ReplicaSnapshot snapshot = a.snapshot();
        b.restore(ReplicaSnapshot.parseFrom(snapshot.toByteArray()));

        int from = saidA.said.size();
        List<PagerLogEntry> rest = new ArrayList<>();
        rest.addAll(open(2, "y", 6, view(1))); // y sends 'obj' to the other pager
        rest.addAll(open(3, "z", 7, view(0)));
        for (PagerLogEntry e : rest) {
            a.apply(e);
            b.apply(e);
        }
        List<String> after = saidA.said.subList(from, saidA.said.size());
        assertThat(after).as("the original's answers").hasSize(3);
        assertThat(after.get(0)).startsWith("2 EINVAL").contains("'y'", "'x'", "'obj'");
        assertThat(after.subList(1, 3)).containsExactly("3 PAGER_WELCOME", "3 MEMORY_OBJECT_READY");
        assertThat(saidB.said).as("the restored replica's answers").isEqualTo(after);
        assertThat(b.snapshot()).isEqualTo(a.snapshot());
        assertThat(snapshot.getCore().getSessionsList()).singleElement()
                .matches(s -> s.hasDirectory() && s.getDirectory().equals(view(0)));
    }

    /**
     * rv58-review MED-2 at a replicated pager: session_opened carries its stream's peer, and the
     * peers' shares of the stated views are judged alike by every replica, one restored from a
     * snapshot too (the peer is in the session's image).
     */
    @Test
    void everyReplicaSharesTheViewsByTheSamePeers() throws Exception {
        Said saidA = new Said();
        ReplicaCore a = replica(saidA);
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        PagerDirectoryView.Builder big = view(0).toBuilder();
        for (int i = 0; big.build().getSerializedSize() < 3_700_000; i += 256) {
            for (int j = i; j < i + 256; j++) {
                big.addAssignments("big-" + j + "-" + "x".repeat(4000) + "=0");
            }
        }
        open(1, "big", 5, big.build(), "10.0.0.1").forEach(a::apply); // past a share: its first view

        Said saidB = new Said();
        ReplicaCore b = replica(saidB);
        b.restore(ReplicaSnapshot.parseFrom(a.snapshot().toByteArray()));
        int from = saidA.said.size();
        List<PagerLogEntry> rest = new ArrayList<>();
        rest.addAll(open(2, "same-host", 6, view(0), "10.0.0.1")); // another view of that peer
        rest.addAll(open(3, "other-host", 7, view(0), "10.0.0.2"));
        rest.addAll(open(4, "no-peer", 8, view(0).toBuilder().setPagerCount(3).build(), ""));
        for (PagerLogEntry e : rest) {
            a.apply(e);
            b.apply(e);
        }
        List<String> after = saidA.said.subList(from, saidA.said.size());
        assertThat(after).hasSize(5);
        assertThat(after.get(0)).startsWith("2 EAGAIN").contains("the kernels of peer 10.0.0.1",
                "kernel 'same-host' stated it");
        assertThat(after.subList(1, 5)).containsExactly("3 PAGER_WELCOME", "3 MEMORY_OBJECT_READY", "4 PAGER_WELCOME",
                "4 MEMORY_OBJECT_READY");
        assertThat(saidB.said).as("the restored replica's answers").isEqualTo(after);
        assertThat(b.snapshot()).isEqualTo(a.snapshot());
    }

    @Test
    void anInvalidViewIsRefusedAndNeverBecomesTheReference() {
        Said said = new Said();
        ReplicaCore a = replica(said);
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        open(1, "i", 5, view(1).toBuilder().setPagerIndex(2).build()).forEach(a::apply); // index >= count
        open(2, "j", 6, PagerDirectoryView.newBuilder().setPagerCount(0).build()).forEach(a::apply);
        open(3, "k", 7, view(1).toBuilder().clearAssignments().addAssignments("obj=2").build()).forEach(a::apply);
        open(4, "l", 8, view(1).toBuilder().addAssignments("obj").build()).forEach(a::apply);
        // none of them is a reference: a valid view that sends 'obj' elsewhere, then here, is taken
        open(5, "m", 9, view(0)).forEach(a::apply);
        assertThat(said.said).hasSize(6);
        assertThat(said.said.get(0)).startsWith("1 EINVAL").contains("'i'", "not valid", "index 2 of a list of 2");
        assertThat(said.said.get(1)).startsWith("2 EINVAL").contains("'j'", "not valid", "pager count of 0");
        assertThat(said.said.get(2)).startsWith("3 EINVAL").contains("'k'", "not valid", "obj=2");
        assertThat(said.said.get(3)).startsWith("4 EINVAL").contains("'l'", "not valid", "'obj'");
        assertThat(said.said.subList(4, 6)).containsExactly("5 PAGER_WELCOME", "5 MEMORY_OBJECT_READY");
    }

    /**
     * xpdir-review H1 at a replicated pager: a hello naming directory_disputes is welcomed by every
     * replica (one restored from a snapshot too) with the same objects in dispute, the same sentence.
     */
    @Test
    void everyReplicaListsTheSameDisputesOneRestoredFromASnapshotToo() throws Exception {
        Said saidA = new Said();
        ReplicaCore a = replica(saidA);
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        open(1, "x", 5, view(0)).forEach(a::apply); // x uses 'obj' here
        Said saidB = new Said();
        ReplicaCore b = replica(saidB);
        b.restore(ReplicaSnapshot.parseFrom(a.snapshot().toByteArray()));

        int from = saidA.welcomes.size();
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName("y").setProtocolVersion(1).setResumable(true)
                .setTidPrefix(6).setDirectory(view(1)).addFeatures("directory_disputes");
        for (PagerLogEntry e : List.of(entry(1_000_000).setSessionOpened(SessionOpened.newBuilder().setSessionId(2))
                .build(), xp(2, 1, KernelToPager.newBuilder().setKernelHello(h)))) {
            a.apply(e);
            b.apply(e);
        }
        assertThat(saidA.welcomes.subList(from, saidA.welcomes.size())).singleElement()
                .satisfies(w -> assertThat(w.getDisputesList()).singleElement().satisfies(d -> {
                    assertThat(d.getObject()).isEqualTo("obj");
                    assertThat(d.getReason()).contains("'y'", "'x'", "uses it there");
                }));
        assertThat(saidB.welcomes).as("the restored replica's welcome").containsExactlyElementsOf(
                saidA.welcomes.subList(from, saidA.welcomes.size()));
        assertThat(saidB.said.stream().filter(m -> m.contains("EINVAL"))).as("nobody refused").isEmpty();
        assertThat(b.snapshot()).isEqualTo(a.snapshot());
    }

    /**
     * xpreview-review HIGH-1: what an init's check reads (which views send an object elsewhere) is
     * derived from the sessions' views, not in the snapshot: a replica restored from one refuses the
     * same init, naming the same kernel.
     */
    @Test
    void aRestoredReplicaRefusesTheSameInitItsViewsAreParsedAgain() throws Exception {
        Said saidA = new Said();
        ReplicaCore a = replica(saidA);
        a.apply(entry(0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build());
        open(1, "x", 5, view(1)).forEach(a::apply); // x sends 'obj' elsewhere (and asked here all the same)
        Said saidB = new Said();
        ReplicaCore b = replica(saidB);
        b.restore(ReplicaSnapshot.parseFrom(a.snapshot().toByteArray()));

        int from = saidA.said.size();
        for (PagerLogEntry e : open(2, "z", 6, view(0))) { // z sends it here: its init would split it
            a.apply(e);
            b.apply(e);
        }
        List<String> after = saidA.said.subList(from, saidA.said.size());
        assertThat(after).containsExactly("2 PAGER_WELCOME", "2 MEMORY_OBJECT_DESTROY");
        assertThat(saidB.said).as("the restored replica's answers").isEqualTo(after);
        assertThat(b.snapshot()).isEqualTo(a.snapshot());
    }
}
