package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The welcome that lists objects in dispute stays small whatever the directories (dir2-review H2):
 * each reason names the two kernels and the pager each view sends the object to, never the whole
 * views (the object is in the dispute's own field), and at most 1,024 objects are listed; a hello with more in dispute is refused with
 * a sentence, not welcomed past gRPC's 4 MiB message limit.
 */
class DirectoryWelcomeSizeTest {
    private static final long LEASE = 1_000_000_000L;
    private static final PagerDirectoryView ONE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();

    private static String name(int i) {
        return String.format("data/tenant-%05d/segment", i);
    }

    private static XpKernels pager(int objects) {
        Map<String, Long> served = new TreeMap<>();
        for (int i = 0; i < objects; i++) {
            served.put(name(i), XpKernels.SIZE);
        }
        return new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3), 0, served);
    }

    /** A kernel "name" given only this pager, which maps objects [from, to). */
    private static void wrongUser(XpKernels y, long session, String kernel, int from, int to) {
        y.pager.sessionOpened(session);
        y.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(kernel)
                .setProtocolVersion(1).setDirectory(ONE).addFeatures("directory_disputes")));
        y.take(session);
        for (int i = from; i < to; i++) {
            y.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                    MemoryObjectInit.newBuilder().setObjectId(i + 1).setName(name(i)).setPageSize(XpKernels.PAGE)));
        }
        y.take(session);
    }

    /** A hello of "good", whose view of 2 pagers sends objects [0, assignments) to pager 1. */
    private static KernelHello good(int assignments) {
        List<String> as = new ArrayList<>();
        for (int i = 0; i < assignments; i++) {
            as.add(name(i) + "=1");
        }
        java.util.Collections.sort(as);
        return KernelHello.newBuilder().setKernelName("good").setProtocolVersion(1).addFeatures("directory_disputes")
                .setDirectory(PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0).addAllAssignments(as))
                .build();
    }

    @Test
    void aBigDirectoryGivesShortReasons() {
        XpKernels y = pager(100);
        wrongUser(y, 1, "wrong", 0, 100);
        KernelHello h = good(20_000);
        y.pager.sessionOpened(2);
        y.xp(2, KernelToPager.newBuilder().setKernelHello(h));
        PagerToKernel w = y.take(2).get(0);
        assertThat(w.getPagerWelcome().getDisputesCount()).isEqualTo(100);
        for (ObjectDispute d : w.getPagerWelcome().getDisputesList()) {
            assertThat(d.getReason().length()).as(d.getReason()).isLessThan(600);
            assertThat(d.getReason()).contains("'wrong'", "'good'", "uses it there",
                    "pager 0 of its list of 1", "pager 1 of its list of 2, where this pager is 0");
        }
        assertThat(w.getSerializedSize()).as("the welcome, beside a hello of %d bytes", h.getSerializedSize())
                .isLessThan(100 * 600);
        assertThat(y.ended).isEmpty();
    }

    @Test
    void moreDisputesThanTheBoundRefuseTheHelloWithASentence() {
        XpKernels y = pager(1100);
        wrongUser(y, 1, "wrong", 0, 600);
        wrongUser(y, 2, "other", 600, 1100);
        y.pager.sessionOpened(3);
        y.xp(3, KernelToPager.newBuilder().setKernelHello(good(1100)));
        assertThat(y.ended.get(3L)).contains("EINVAL", "more than 1024", "'good'", "in dispute");
    }

    @Test
    void exactlyTheBoundIsListed() {
        XpKernels y = pager(1024);
        wrongUser(y, 1, "wrong", 0, 600);
        wrongUser(y, 2, "other", 600, 1024);
        y.pager.sessionOpened(3);
        y.xp(3, KernelToPager.newBuilder().setKernelHello(good(1024)));
        PagerToKernel w = y.take(3).get(0);
        assertThat(w.getPagerWelcome().getDisputesCount()).isEqualTo(1024);
        assertThat(w.getSerializedSize()).isLessThan(1024 * 600);
        assertThat(y.ended).isEmpty();
    }
}
