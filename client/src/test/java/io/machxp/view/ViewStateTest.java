package io.machxp.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.SessionStatus;
import io.machxp.proto.task.KernelThreadsReply;
import io.machxp.proto.task.ThreadStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the live view shows of a kernel's threads, futexes and pages: those listed, and the count of those a reply left out. */
class ViewStateTest {
    @Test
    void threadsAKernelLeftOutOfItsReplyAreCounted() {
        PagerStatusReply status = PagerStatusReply.newBuilder().setPagerName("p")
                .addSessions(SessionStatus.newBuilder().setKernelName("A").setSessionId(1)).build();
        KernelThreadsReply a = KernelThreadsReply.newBuilder().setKernelName("A")
                .addThreads(ThreadStatus.newBuilder().setTid(7).setTaskName("t")).setThreadsOmitted(5).build();
        KernelThreadsReply b = KernelThreadsReply.newBuilder().setKernelName("B").setThreadsOmitted(2).build();
        ViewState s = ViewState.of("localhost:7070", null, status, ViewState.rates(null,
                io.machxp.proto.admin.PagerStatisticsReply.getDefaultInstance(), 0), Map.of("A", a, "B", b), Map.of(),
                List.of(), List.of(), 0);
        assertThat(s.kernels()).extracting(ViewState.Kernel::name, k -> k.threads().size(), ViewState.Kernel::threadsOmitted)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("A", 1, 5L),
                        org.assertj.core.groups.Tuple.tuple("B", 0, 2L));
    }

    @Test
    void futexesAndPagesThePagersReplyLeftOutAreCounted() {
        PagerStatusReply status = PagerStatusReply.newBuilder().setPagerName("p")
                .addFutexes(io.machxp.proto.admin.FutexStatus.newBuilder().setObject("o").setOffset(64).setHolder("A")
                        .setFencingToken((5L << 32) | 7))
                .addPages(io.machxp.proto.admin.PageStatus.newBuilder().setObject("o").setOffset(4096).setWriter("A"))
                .setFutexesOmitted(199_999).setPagesOmitted(7).build();
        ViewState s = ViewState.of("localhost:7070", null, status, ViewState.rates(null,
                io.machxp.proto.admin.PagerStatisticsReply.getDefaultInstance(), 0), Map.of(), Map.of(),
                List.of(), List.of(), 0);
        assertThat(s.futexes()).extracting(ViewState.Futex::futex).containsExactly("o+0x40");
        assertThat(s.futexes()).extracting(ViewState.Futex::fencingToken).as("as status and lock print it, then epoch.grant")
                .containsExactly("21474836487 (5.7)");
        assertThat(s.futexesOmitted()).isEqualTo(199_999);
        assertThat(s.pages()).extracting(ViewState.Page::page).containsExactly("o+0x1000");
        assertThat(s.pagesOmitted()).isEqualTo(7);
    }
}
