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
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.5 (Across a restart), 8.7, 9.6: at the end of grace a restarted pager takes the TID
 * prefix a lost futex's stored word names as a dead kernel's, and then records that death as it
 * would a death before the crash: where nobody holds or waits for the futex and no kernel holds
 * its page, OWNER_DIED goes into its copy at once, and the prefix is usable again. Before (late12
 * MED-2) it marked the death and never recorded it (only when kernel ids ran short), so a kernel
 * whose primary is another pager, stating that prefix, was refused EAGAIN for as long. On the core
 * with a clock the test moves.
 */
class RestartDeathRecordingTest {
    private static final long LEASE = 1_000_000_000L;
    private final FailingStore disk = new FailingStore(0);

    /** A kernel whose primary is another pager: its hello states its prefix. What the pager sent back. */
    private static List<PagerToKernel> helloStating(XpKernels x, long session, String name, int prefix) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setTidPrefix(prefix)));
        return x.take(session);
    }

    @Test
    void anIdleStoredWordsDeathIsRecordedWhenGraceEndsSoItsPrefixIsUsableAgain() {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        first.kernel(1, "A"); // id 1
        long b = first.kernel(2, "B"); // id 2
        first.lockFutex(b, 0);
        assertThat(first.take(b)).anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        disk.memory.write("obj", 0, pageWithWord(0, WAITERS | 0x200001), 1); // B's thread, waiters; then the crash

        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        second.advance(LEASE); // grace ends: B did not reclaim, nobody holds the page
        assertThat(wordAt(disk.memory.read("obj", 0), 0)).as("the death recorded in the pager's copy at grace end")
                .isEqualTo(WAITERS | OWNER_DIED);
        assertThat(second.pager.recordCounts()).containsEntry("deadKernelIdsInWords", 0);
        List<PagerToKernel> got = helloStating(second, 9, "S", 2);
        assertThat(got).as("S (its primary gave it id 2) welcomed at once: %s", second.ended.get(9L))
                .anyMatch(PagerToKernel::hasPagerWelcome);

        long c = second.kernel(3, "C");
        second.lockFutex(c, 0);
        assertThat(second.one(c).getMemoryObjectFutexGranted().getOwnerDied())
                .as("the word says it now (EOWNERDEAD from the word, as after Linux's robust-list walk)").isFalse();
        second.write(c, 0);
        assertThat(wordAt(second.one(c).getMemoryObjectDataSupply().getData().toByteArray(), 0))
                .isEqualTo(WAITERS | OWNER_DIED);
    }

    /**
     * The journal may name many futexes of one page: the pager reads the page once for all of them
     * at grace end (late12 LOW-1: one read per futex, on the core thread).
     */
    @Test
    void graceEndReadsEachPageOnceForAllItsLostFutexes() {
        XpKernels first = new XpKernels(disk, new PagerOptions(LEASE, 3));
        long b = first.kernel(2, "B"); // id 1
        byte[] page = new byte[XpKernels.PAGE];
        for (int i = 0; i < 8; i++) {
            first.lockFutex(b, 4L * i);
            java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4 * i, 0x100001 + i);
        }
        assertThat(first.take(b)).hasSize(8).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        disk.memory.write("obj", 0, page, 1);

        XpKernels second = new XpKernels(disk, new PagerOptions(LEASE, 4).withGrace(LEASE));
        int before = disk.reads;
        second.advance(LEASE); // grace ends: 8 lost futexes on page 0
        assertThat(second.pager.recordCounts()).as("recorded").containsEntry("deadKernelIdsInWords", 0);
        assertThat(disk.reads - before).as("page 0 read to look (once) and to record (once)").isEqualTo(2);
        byte[] now = disk.memory.read("obj", 0);
        for (int i = 0; i < 8; i++) {
            assertThat(wordAt(now, 4L * i)).isEqualTo(OWNER_DIED);
        }
    }
}
