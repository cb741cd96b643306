package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An answered keepalive is a barrier for page answers (xp-spec 4.2, 10.1, Appendix C), also when
 * the store reads pages off the core thread (a disk store): the pager_keepalive does not overtake
 * the answer to a data_request sent before it. Found by the XP review (finding 1): with a file
 * store, 141 of 300 one-page requests were answered after the keepalive sent after them.
 */
class KeepaliveBarrierTest {
    /** The answer to a read of a page never written (its read from the store still goes off the core thread). */
    private static final PagerToKernel.RoutineCase ANSWER = PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_UNAVAILABLE;
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 3));

    private static List<PagerToKernel.RoutineCase> routines(List<PagerToKernel> got) {
        return got.stream().map(PagerToKernel::getRoutineCase).toList();
    }

    @Test
    void aKeepaliveAnswerWaitsForTheReadOfAnEarlierRequest() {
        long a = x.kernel(1, "A");
        x.deferPageEffects(); // the store reads page 0 off the core thread, slowly
        x.read(a, 0);
        x.keepalive(a, 1);
        assertThat(x.take(a)).as("nothing before the page's read is back").isEmpty();
        x.runPageEffects();
        assertThat(routines(x.take(a))).containsExactly(ANSWER,
                PagerToKernel.RoutineCase.PAGER_KEEPALIVE);
    }

    @Test
    void onlyTheSessionThatWaitsIsHeld() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.deferPageEffects();
        x.read(a, 0);
        x.keepalive(b, 1);
        assertThat(routines(x.take(b))).containsExactly(PagerToKernel.RoutineCase.PAGER_KEEPALIVE);
        x.keepalive(a, 1);
        x.keepalive(a, 2);
        x.read(a, XpKernels.PAGE); // after the keepalives: not waited for
        x.runPageEffects();
        List<PagerToKernel> got = x.take(a);
        assertThat(routines(got).subList(0, 3)).containsExactly(ANSWER,
                PagerToKernel.RoutineCase.PAGER_KEEPALIVE, PagerToKernel.RoutineCase.PAGER_KEEPALIVE);
        assertThat(got.get(1).getPagerKeepalive().getSequence()).isEqualTo(1);
        assertThat(got.get(2).getPagerKeepalive().getSequence()).isEqualTo(2);
    }

    @Test
    void aRequestQueuedBehindAnotherKernelsReadIsWaitedForToo() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.deferPageEffects();
        x.read(b, 0); // B's read of page 0 goes to the store
        x.read(a, 0); // A's waits behind it, then needs its own read
        x.keepalive(a, 1);
        x.runPageEffects();
        assertThat(routines(x.take(b))).containsExactly(ANSWER);
        assertThat(x.take(a)).as("A's read is under way").isEmpty();
        x.runPageEffects();
        assertThat(routines(x.take(a))).containsExactly(ANSWER,
                PagerToKernel.RoutineCase.PAGER_KEEPALIVE);
    }
}
