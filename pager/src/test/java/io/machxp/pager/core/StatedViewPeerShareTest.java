package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * rv58-review MED-2: the 32 MiB of distinct pager directory views a pager keeps are shared among
 * the peers the sessions come from ({@link ViewShares}), so that one peer cannot take them all.
 * Before, one peer's 9 sessions stated 8 views of ~4 MB and a ninth that left 0 bytes, and every
 * kernel whose view no open session stated (a 2-byte one) was refused EAGAIN while they kept
 * alive; here the review's sequence at a core, with the peers its streams would have
 * ({@code CallerPeer}), and across a snapshot (the peer is in the session's image).
 */
@ExtendWith(QuietCoreLogs.class)
class StatedViewPeerShareTest {
    private static final String HOG = "10.0.0.66";
    private static final String OTHER = "10.0.0.7";
    private static final String THIRD = "10.0.0.8";

    /** What the core said: "id ROUTINE" for what it sent, "id ERRNO sentence" for a session it ended. */
    private final List<String> said = new ArrayList<>();

    private PagerCore core() {
        return new PagerCore("p", 4096, new io.machxp.pager.object.ObjectCatalog(Map.of("obj", 4096L), 4096),
                new PagerEnv() {
                    @Override
                    public void send(long sessionId, PagerToKernel message) {
                        said.add(sessionId + " " + message.getRoutineCase());
                    }

                    @Override
                    public void endSession(long sessionId, io.machxp.proto.task.Errno errno, String message) {
                        said.add(sessionId + " " + errno + " " + message);
                    }

                    @Override
                    public long nanoTime() {
                        return 1;
                    }
                }, new PagerStats());
    }

    /**
     * A view of two pagers, this one pager 0, whose assignments (long object names, all sent here)
     * make it {@code bytes} serialized, exactly.
     */
    static PagerDirectoryView view(String tag, int bytes) {
        PagerDirectoryView.Builder b = PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0);
        long total = b.build().getSerializedSize();
        int i = 0;
        while (total + 4100 < bytes) {
            String a = name(tag, i++, 3998) + "=0";
            b.addAssignments(a);
            total += 1 + com.google.protobuf.CodedOutputStream.computeStringSizeNoTag(a);
        }
        for (int length = (int) (bytes - total) - 2; ; length--) { // the last one: what is left, exactly
            String a = name(tag, i, length - 2) + "=0";
            if (total + 1 + com.google.protobuf.CodedOutputStream.computeStringSizeNoTag(a) == bytes) {
                PagerDirectoryView v = b.addAssignments(a).build();
                assertThat(v.getSerializedSize()).isEqualTo(bytes);
                return v;
            }
        }
    }

    private static String name(String tag, int i, int length) {
        StringBuilder s = new StringBuilder(tag).append('-').append(i).append('-');
        while (s.length() < length) {
            s.append('x');
        }
        return s.toString();
    }

    private static KernelToPager hello(String name, PagerDirectoryView view) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view)).build();
    }

    /** Opens session {@code id} from {@code peer} with a hello of {@code name} stating {@code view}; what it was told. */
    private String hello(PagerCore pager, long id, String peer, String name, PagerDirectoryView view) {
        int from = said.size();
        pager.sessionOpened(id, peer);
        pager.onXp(id, hello(name, view));
        assertThat(said.subList(from, said.size())).as("what %s was told", name).isNotEmpty();
        return said.get(from);
    }

    @Test
    void onePeersNineSessionsNoLongerShutOutAnotherPeersKernel() throws Exception {
        PagerCore pager = core();
        long share = (StatedViews.MAX_BYTES - StatedViews.MAX_BYTES / ViewShares.RESERVE_SHARES)
                / ViewShares.PEER_SHARES;
        // The review's hog: 8 distinct views of 4,000,000 bytes and a ninth that fills the 32 MiB to the byte.
        List<String> hogs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            int bytes = i < 8 ? 4_000_000 : (int) (StatedViews.MAX_BYTES - 8 * 4_000_000L);
            hogs.add(hello(pager, 1 + i, HOG, "hog-" + i, view("hog" + i, bytes)));
        }
        assertThat(hogs.get(0)).isEqualTo("1 PAGER_WELCOME");
        for (int i = 1; i < 9; i++) {
            assertThat(hogs.get(i)).as("hog %d", i).startsWith((1 + i) + " EAGAIN ")
                    .contains("the kernels of peer " + HOG + " (one host, all its connections together) state 1 "
                            + "distinct pager directories at pager p, 4000000 bytes, and another of ",
                            "bytes would take them past the peer's share (" + share + " bytes",
                            "kernel 'hog-" + i + "' stated it",
                            "give that host's kernels one directory, or connect again once its kernels with other "
                                    + "directories have left");
        }
        assertThat(pager.statedViewBytes()).isEqualTo(4_000_000);

        // Another peer's ordinary kernel (one pager: a 2-byte view) is welcomed; before, EAGAIN.
        PagerDirectoryView small = PagerDirectoryView.newBuilder().setPagerCount(1).build();
        assertThat(small.getSerializedSize()).isEqualTo(2);
        assertThat(hello(pager, 20, OTHER, "legit-kernel", small)).isEqualTo("20 PAGER_WELCOME");
        // and a third peer's large one too: each peer has a share of its own
        assertThat(hello(pager, 21, THIRD, "third", view("third", 4_000_000))).isEqualTo("21 PAGER_WELCOME");
        // The hog's kernels may state the view it holds already: it costs it nothing.
        assertThat(hello(pager, 22, HOG, "hog-again", view("hog0", 4_000_000))).isEqualTo("22 PAGER_WELCOME");
        // ... and once none of its sessions states it, the hog may state another.
        pager.sessionClosed(1);
        assertThat(hello(pager, 23, HOG, "hog-x", view("hogx", 3_000))).startsWith("23 EAGAIN");
        pager.sessionClosed(22);
        assertThat(hello(pager, 24, HOG, "hog-y", view("hogy", 3_000))).isEqualTo("24 PAGER_WELCOME");

        // A restored core (a restart from a snapshot, a replica installing one) keeps each session's
        // peer: the hog, at its share again, is refused there too.
        assertThat(hello(pager, 25, HOG, "hog-z", view("hogz", 3_600_000))).isEqualTo("25 PAGER_WELCOME");
        var snapshot = pager.snapshot();
        assertThat(snapshot.getSessionsList()).filteredOn(s -> s.getId() == 25).singleElement()
                .matches(s -> s.hasPeer() && s.getPeer().equals(HOG));
        PagerCore restored = core();
        restored.restore(io.machxp.proto.snapshot.PagerSnapshot.parseFrom(snapshot.toByteArray()));
        assertThat(restored.statedViewBytes()).isEqualTo(pager.statedViewBytes());
        for (PagerCore c : List.of(pager, restored)) {
            assertThat(hello(c, 26, HOG, "hog-w", view("hogw", 100_000))).startsWith("26 EAGAIN")
                    .contains("the kernels of peer " + HOG);
            assertThat(hello(c, 27, OTHER, "other-2", view("o2", 3_000))).isEqualTo("27 PAGER_WELCOME");
        }
        assertThat(restored.snapshot()).isEqualTo(pager.snapshot());
    }
}
