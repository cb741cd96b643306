package io.machxp.pager.page;

import static io.machxp.pager.page.FutexWords.OWNER_DIED;
import static io.machxp.pager.page.FutexWords.WAITERS;
import static io.machxp.pager.page.FutexWords.wordAt;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review deaths3 MED-2: the marks of futexes a kernel gives back while it keeps their page
 * writable ({@code KernelSession.releasedWhileWriting}) counted against no quota, so one kernel
 * with a futex quota of 4 made the pager keep 1,000 of them. Now they are bounded by the session's
 * futex quota: past it, the pager takes back the page of the first marks (a flush with the dirty
 * data), whose answer, the kernel's copy with its unlocks, clears them. No mark is dropped: a
 * kernel that dies before answering has every word its marks name judged (OWNER_DIED), and one
 * that answered has its unlocks in the pager's copy.
 */
class ReleasedMarksBoundTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int QUOTA = 4;
    private static final int D_TID = 5 << 20 | 1;
    /** Futexes per page: three words of each of the object's four pages. */
    private static final int PER_PAGE = 3;

    private final XpKernels k = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3, QUOTA));

    /** A kernel whose primary is another pager: its hello states its TID prefix. */
    private long secondary(long session, String name, int prefix) {
        k.pager.sessionOpened(session);
        k.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setTidPrefix(prefix)));
        k.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        assertThat(k.take(session)).hasSize(2);
        return session;
    }

    private static long futex(int page, int word) {
        return (long) page * XpKernels.PAGE + 8L * word;
    }

    /** A page whose futex words are all {@code word}. */
    private static byte[] pageWithFutexWords(int word) {
        byte[] data = new byte[XpKernels.PAGE];
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int w = 0; w < PER_PAGE; w++) {
            b.putInt(8 * w, word);
        }
        return data;
    }

    private int marks() {
        return k.pager.snapshot().getSessionsList().stream().mapToInt(s -> s.getReleasedWhileWritingCount()).sum();
    }

    /**
     * d (prefix 5) writes each page, returns it with its futex words naming its thread (the pager's
     * copy), takes it writable again, then locks and gives back each futex of it keeping the page:
     * 12 releases keeping the page. Each flush d is sent is answered if {@code answer} (its copy,
     * the words unlocked); returns the pages flushed.
     */
    private List<Long> releasesKeepingThePages(long d, boolean answer) {
        List<Long> flushed = new ArrayList<>();
        for (int page = 0; page < 4; page++) {
            long at = (long) page * XpKernels.PAGE;
            k.write(d, at);
            k.take(d);
            k.returnDirty(d, at, pageWithFutexWords(WAITERS | D_TID), false);
            k.write(d, at); // d writes the page again: its unlocks stay in its copy
            k.take(d);
            for (int w = 0; w < PER_PAGE; w++) {
                k.lockFutex(d, futex(page, w));
                assertThat(k.one(d).hasMemoryObjectFutexGranted()).isTrue();
                k.futexReleased(d, futex(page, w)); // nobody waits: the record is pruned, the futex marked
                for (PagerToKernel m : k.take(d)) {
                    XpKernels.assertFlush(m, m.getMemoryObjectLockRequest().getOffset());
                    long asked = m.getMemoryObjectLockRequest().getOffset();
                    flushed.add(asked);
                    if (answer) {
                        k.returnDirty(d, asked, pageWithFutexWords(0), false); // its copy: unlocked
                        k.lockCompleted(d, asked);
                    }
                }
                if (answer) {
                    assertThat(marks()).as("marks kept after release %d of page %d", w, page).isLessThanOrEqualTo(QUOTA);
                }
            }
        }
        return flushed;
    }

    /** d dies; b (prefix 7) reads each page: the word of every futex d gave back. */
    private List<Integer> wordsAfterDDies() {
        k.pager.sessionClosed(1);
        k.advance(2 * LEASE);
        assertThat(k.declaredDead).containsKey("d");
        long b = secondary(3, "b", 7);
        List<Integer> words = new ArrayList<>();
        for (int page = 0; page < 4; page++) {
            k.read(b, (long) page * XpKernels.PAGE);
            byte[] data = k.one(b).getMemoryObjectDataSupply().getData().toByteArray();
            for (int w = 0; w < PER_PAGE; w++) {
                words.add(wordAt(data, 8L * w));
            }
        }
        assertThat(k.stats.refused()).isZero();
        return words;
    }

    @Test
    void theMarksStayWithinTheQuotaAndNoDeathIsLost() {
        long d = secondary(1, "d", 5);
        List<Long> flushed = releasesKeepingThePages(d, true);
        assertThat(flushed).as("the pages of the first marks were asked back").isNotEmpty();
        assertThat(marks()).isLessThanOrEqualTo(QUOTA).isPositive();
        List<Integer> words = wordsAfterDDies();
        assertThat(words).as("no word names d's dead thread: unlocked (returned) or OWNER_DIED (judged by a mark)")
                .allMatch(w -> w == 0 || w == (WAITERS | OWNER_DIED));
        assertThat(words).contains(0, WAITERS | OWNER_DIED);
    }

    /** d never answers the flushes and dies: every mark is still there, and every word is judged. */
    @Test
    void aWriterThatDoesNotAnswerLosesNoMark() {
        long d = secondary(1, "d", 5);
        assertThat(releasesKeepingThePages(d, false)).isNotEmpty();
        assertThat(marks()).as("none dropped").isEqualTo(4 * PER_PAGE);
        assertThat(wordsAfterDDies()).as("every word named d's thread: OWNER_DIED").containsOnly(WAITERS | OWNER_DIED);
    }
}
