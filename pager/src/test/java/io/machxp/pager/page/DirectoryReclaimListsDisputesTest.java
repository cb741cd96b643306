package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.Resume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A reclaim's welcome lists the objects in dispute for the reclaiming kernel's view, as a new
 * session's welcome does (xp-spec 2.8; dir3-review MED-1 fix (b)): a reclaim is not checked (not
 * refused), but what it finds is told to a kernel that named "directory_disputes", which adds it
 * to the list it keeps. Before, a reclaim's welcome listed nothing, so a kernel reclaiming beside
 * a disputed object in use here was never told. A resume's welcome still lists nothing: the
 * session's view counted all along, so nothing came into dispute for it that its list lacks.
 */
class DirectoryReclaimListsDisputesTest {
    private static final long LEASE = 1_000_000_000L;
    private static final PagerDirectoryView HERE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();
    private static final PagerDirectoryView ELSEWHERE = PagerDirectoryView.newBuilder().setPagerCount(2)
            .setPagerIndex(0).addAssignments("obj=1").build();

    private static KernelHello.Builder reclaim(String name, int kernelId, PagerDirectoryView view, List<String> objects,
            boolean feature) {
        Reclaim.Builder r = Reclaim.newBuilder().setKernelId(kernelId);
        for (int i = 0; i < objects.size(); i++) {
            r.addObjects(ReclaimedObject.newBuilder().setObjectId(i + 1).setName(objects.get(i))
                    .setPageSize(XpKernels.PAGE));
        }
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true)
                .setDirectory(view).setReclaim(r);
        if (feature) {
            h.addFeatures("directory_disputes");
        }
        return h;
    }

    private static PagerWelcome welcome(XpKernels x, long session, KernelHello.Builder hello) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(hello));
        List<PagerToKernel> got = x.take(session);
        assertThat(x.ended).as("the session is not ended").doesNotContainKey(session);
        assertThat(got).isNotEmpty();
        assertThat(got.get(0).hasPagerWelcome()).as(got.get(0).toString()).isTrue();
        return got.get(0).getPagerWelcome();
    }

    @Test
    void aReclaimBesideAnObjectInUseItsViewSendsElsewhereIsWelcomedWithItListed() {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));
        welcome(x, 1, reclaim("A", 1, HERE, List.of("obj"), false));
        PagerWelcome b = welcome(x, 2, reclaim("B", 2, ELSEWHERE, List.of(), true));
        assertThat(b.getDisputesList()).as("B's reclaim welcome lists obj, which A uses here")
                .singleElement().satisfies(d -> {
                    assertThat(d.getObject()).isEqualTo("obj");
                    assertThat(d.getReason()).contains("'A'", "'B'");
                });

        // B's resume of the reclaimed session: its welcome lists nothing (B keeps its list, 2.8)
        PagerWelcome r = welcome(x, 3, KernelHello.newBuilder().setKernelName("B").setProtocolVersion(1)
                .setResumable(true).setDirectory(ELSEWHERE).addFeatures("directory_disputes")
                .setResume(Resume.newBuilder().setKernelId(b.getKernelId()).setSessionToken(b.getSessionToken())
                        .setAttempt(1)));
        assertThat(r.getResumed()).isTrue();
        assertThat(r.getDisputesCount()).isZero();
    }

    @Test
    void anOlderKernelsReclaimIsListedNothing() {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));
        welcome(x, 1, reclaim("A", 1, HERE, List.of("obj"), false));
        assertThat(welcome(x, 2, reclaim("B", 2, ELSEWHERE, List.of(), false)).getDisputesCount())
                .as("a kernel that did not name directory_disputes is told nothing (6.12); the pager logs it")
                .isZero();
    }

    @Test
    void aReclaimWithMoreInDisputeThanAWelcomeListsIsWelcomedListingWhatFits() {
        List<String> names = new ArrayList<>();
        Map<String, Long> served = new TreeMap<>();
        for (int i = 0; i < 1024; i++) {
            String name = String.format("data/tenant-%05d/", i) + "x".repeat(2100);
            names.add(name);
            served.put(name, XpKernels.SIZE);
        }
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE), 0, served);
        welcome(x, 1, reclaim("A", 1, HERE, names, false));
        List<String> assignments = new ArrayList<>();
        names.forEach(n -> assignments.add(n + "=1")); // ASCII names: their order is the UTF-8 order
        PagerWelcome b = welcome(x, 2, reclaim("B", 2, PagerDirectoryView.newBuilder().setPagerCount(2)
                .setPagerIndex(0).addAllAssignments(assignments).build(), List.of(), true));
        long bytes = b.getDisputesList().stream()
                .mapToLong(d -> d.getObjectBytes().size() + d.getReasonBytes().size()).sum();
        assertThat(b.getDisputesCount()).as("not refused: the first that fit 2 MiB are listed")
                .isBetween(1, 1023);
        assertThat(bytes).isLessThanOrEqualTo(2L << 20);
        assertThat(b.getDisputes(0).getObject()).isEqualTo(names.get(0));
    }
}
