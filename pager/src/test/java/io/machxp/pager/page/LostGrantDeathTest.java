package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.pageWithWord;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.5, 8.7, 9.6: a grant with owner_died that the pager's crash lost. D died holding a
 * futex A waited for; the pager granted it to A with owner_died (journal: A) and crashed before A
 * got the grant, so A reclaims without naming it. The journal took that for a futex A had given
 * back and forgot it, and only the crashed pager's memory knew of D's death: D's TID stayed in the
 * word, ESRCH for every later locker (chaos --mix contended seed 1171). Now the word of a futex its
 * journal holder reclaimed without naming is judged at grace end as an unreclaimed one's.
 */
class LostGrantDeathTest {
    private static final long LEASE = 1_000_000_000L;
    private final FailingStore disk = new FailingStore(0);

    @Test
    void aDeadHoldersTidLeftByALostOwnerDiedGrantIsRecordedAtGraceEnd() {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long a = first.kernel(1, "A"); // id 1
        long d = first.kernel(2, "D"); // id 2
        first.lockFutex(d, 0);
        assertThat(first.take(d)).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        first.lockFutex(a, 0); // A waits
        disk.memory.write("obj", 0, pageWithWord(0, WAITERS | 0x200001), 1); // D's thread, in the pager's copy
        first.advanceHeard(2 * LEASE, LEASE / 4, a); // D declared dead: the futex goes to A with owner_died
        assertThat(first.take(a)).filteredOn(PagerToKernel::hasMemoryObjectFutexGranted)
                .singleElement().matches(m -> m.getMemoryObjectFutexGranted().getOwnerDied());
        // the pager crashes before A got the grant: A reclaims, naming no futex
        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.pager.sessionOpened(1);
        second.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1))));
        assertThat(second.take(1)).anyMatch(PagerToKernel::hasPagerWelcome);
        second.advanceHeard(LEASE, LEASE / 4, 1); // grace ends

        assertThat(wordAt(disk.memory.read("obj", 0), 0)).as("D's death recorded in the pager's copy at grace end")
                .isEqualTo(WAITERS | OWNER_DIED);
        assertThat(second.pager.recordCounts()).containsEntry("deadKernelIdsInWords", 0);
    }
}
