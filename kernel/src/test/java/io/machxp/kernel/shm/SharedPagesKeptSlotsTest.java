package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a page file gives back when a page leaves, and when (SharedPages' overview): a page handed
 * away keeps its slot allocated for its return (the demo's throughput halved when each handoff
 * punched the slot and its return wrote zeros again, c8ca4037); the pool of kept slots is
 * bounded; a slot due with an access counted is punched once the count drained (review S1); a
 * refused slot is tried again once room was freed, or after a back-off, and a page whose slot is
 * refused takes a free spare that is allocated already (review S2). The core's side only, on a
 * page file made as in production, in a directory of this test's own under {@code /dev/shm}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedPagesKeptSlotsTest {
    private static final int PAGE = ShmTestFiles.PAGE;
    private static final int PAGES = 64;
    private static final int SEEK_DATA = 3;

    private ShmTestFiles files;
    private SharedMemory memory;
    private SharedPages pages;
    private ByteBuffer file;
    private final VmPage[] page = new VmPage[PAGES];

    /** lseek(2) with SEEK_DATA: whether a byte of a file is allocated or in a hole. */
    public interface LibC extends Library {
        int open(String path, int flags);

        long lseek(int fd, long offset, int whence);

        int close(int fd);
    }

    @BeforeEach
    void directory() throws IOException {
        files = ShmTestFiles.make("kept-slots-test-").punchable();
    }

    @AfterEach
    void removeDirectory() throws IOException {
        SharedMemory.keptSlots = SharedPages.KEPT_SLOTS;
        SharedMemory.refuseSpace = null;
        if (files != null) {
            files.close();
        }
    }

    /** A page file of {@link #PAGES} pages whose pool keeps {@code kept} slots, and its pages, resident writable. */
    private void pageFile(int kept) throws IOException {
        SharedMemory.keptSlots = kept;
        memory = files.memory();
        pages = files.pageFile(7, PAGES);
        file = ShmTestFiles.taskView(pages.file());
        for (int i = 0; i < PAGES; i++) {
            page[i] = new VmPage(7, (long) i * PAGE, PAGE, null, pages);
            page[i].data = io.machxp.kernel.vm.PageContents.zeros(PAGE);
            io.machxp.kernel.vm.PageContents.putByte(page[i].data, 8, (byte) (i + 1));
            page[i].access = VmPage.Access.READ_WRITE;
        }
    }

    /** The kernel takes page {@code i} back from task processes and it leaves (handed away or not). */
    private void leaves(int i, boolean handedAway) {
        pages.take(page[i], new int[0]);
        pages.release(page[i], handedAway);
    }

    private boolean allocated(int slot) {
        long offset = ShmLayout.pageData(ShmLayout.pageSlots(PAGES, PAGE), PAGE) + (long) slot * PAGE;
        LibC libc = Native.load("c", LibC.class);
        int fd = libc.open(pages.file().toString(), 0);
        assertThat(fd).isNotNegative();
        try {
            return libc.lseek(fd, offset, SEEK_DATA) == offset;
        } finally {
            libc.close(fd);
        }
    }

    private void count(int slot, int delta) {
        INT.getAndAdd(file, ShmLayout.pageCtl(slot), delta); // an access of a task process, counted or ended
    }

    @Test
    void aPageHandedAwayAndBackKeepsItsSlotAllocatedAndNothingIsPunchedOrWritten() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[1])).isTrue();
        assertThat(pages.allocatedSlots()).isEqualTo(1);
        for (int round = 0; round < 5; round++) { // a futex and its page bounce between kernels
            leaves(1, true);
            assertThat(allocated(1)).as("slot 1 while page 1 is away (round %d)", round).isTrue();
            assertThat(pages.allocatedSlots()).isEqualTo(1);
            io.machxp.kernel.vm.PageContents.putByte(page[1].data, 8, (byte) (100 + round)); // as the other kernel left it
            assertThat(pages.map(page[1])).as("page 1 back, mapped (round %d)", round).isTrue();
            assertThat(file.get((int) ShmLayout.pageData(ShmLayout.pageSlots(PAGES, PAGE), PAGE) + PAGE + 8))
                    .as("its bytes in slot 1").isEqualTo((byte) (100 + round));
        }
        assertThat(pages.punches()).as("holes punched").isZero();
        assertThat(pages.allocations()).as("slots allocated (zeros written)").isEqualTo(1);
        assertThat(pages.kept()).isZero();
    }

    @Test
    void thePoolKeepsAtMostItsBoundAndPunchesTheOldestFirst() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        int handedAway = SharedPages.KEPT_SLOTS + 24;
        for (int i = 0; i < handedAway; i++) {
            assertThat(pages.map(page[i])).isTrue();
            leaves(i, true);
            assertThat(pages.allocatedSlots()).as("after %d pages", i + 1)
                    .isLessThanOrEqualTo(SharedPages.KEPT_SLOTS);
        }
        assertThat(pages.allocatedSlots()).isEqualTo(SharedPages.KEPT_SLOTS);
        assertThat(pages.punches()).isEqualTo(24);
        for (int i = 0; i < handedAway; i++) {
            assertThat(allocated(i)).as("slot %d", i).isEqualTo(i >= 24);
        }
        int allocations = pages.allocations();
        assertThat(pages.map(page[handedAway - 1])).isTrue(); // the newest kept: no write of zeros
        assertThat(pages.map(page[0])).isTrue(); // punched: allocated again
        assertThat(pages.allocations()).isEqualTo(allocations + 1);
        assertThat(pages.allocatedSlots()).as("two resident, the others kept").isEqualTo(SharedPages.KEPT_SLOTS + 1);
    }

    @Test
    void anEvictedPagesSlotIsPunchedAtOnce() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[3])).isTrue();
        leaves(3, false);
        assertThat(allocated(3)).isFalse();
        assertThat(pages.allocatedSlots()).isZero();
    }

    /** Review S1: a slot released with an access counted is punched once that count drained, at a later release. */
    @Test
    void aSlotReleasedWithAnAccessCountedIsPunchedOnceTheCountDrained() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[1])).isTrue();
        count(1, 1); // an access under way at the take
        leaves(1, false);
        assertThat(allocated(1)).as("kept while the access is counted").isTrue();
        count(1, -1); // it ended
        assertThat(pages.map(page[2])).isTrue();
        leaves(2, false); // any later release tries again
        assertThat(allocated(1)).as("slot 1 once its count drained").isFalse();
        assertThat(allocated(2)).isFalse();
        assertThat(pages.allocatedSlots()).isZero();
    }

    /** Review S1 at the pool's bound: the oldest kept slot with a count is skipped, and punched at a later overflow. */
    @Test
    void aKeptSlotWithAnAccessCountedIsSkippedAtTheOverflowAndPunchedLater() throws IOException {
        pageFile(1);
        assertThat(pages.map(page[1])).isTrue();
        count(1, 1);
        leaves(1, true);
        assertThat(pages.map(page[2])).isTrue();
        leaves(2, true); // over the bound: slot 1 is the oldest, but counted
        assertThat(allocated(1)).isTrue();
        assertThat(allocated(2)).isTrue();
        count(1, -1);
        assertThat(pages.map(page[3])).isTrue();
        leaves(3, true); // over the bound again: slot 2 punched, and slot 1, drained
        assertThat(allocated(1)).as("slot 1 once its count drained").isFalse();
        assertThat(allocated(2)).isFalse();
        assertThat(allocated(3)).as("kept").isTrue();
        assertThat(pages.due()).isZero();
    }

    /** Review S2: a slot refused for want of room is allocated at a map after room was freed. */
    @Test
    void aRefusedSlotIsAllocatedAfterAPunchFreedRoom() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[2])).isTrue();
        boolean[] full = {true};
        SharedMemory.refuseSpace = f -> full[0] && f.toString().endsWith("-pages@1");
        assertThat(pages.map(page[1])).as("no room for slot 1").isFalse();
        full[0] = false; // another process freed room: not known here yet
        assertThat(pages.map(page[1])).as("not tried again at once").isFalse();
        leaves(2, false); // a punch of this object: room
        assertThat(pages.map(page[1])).as("tried again after room was freed").isTrue();
        assertThat(allocated(1)).isTrue();
    }

    /** Review S2: without a punch here, a refused slot is tried again after a back-off, not at every map. */
    @Test
    void aRefusedSlotIsTriedAgainAfterABackOff() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        boolean[] full = {true};
        int[] tries = {0};
        SharedMemory.refuseSpace = f -> {
            if (!f.toString().endsWith("-pages@1")) {
                return false;
            }
            tries[0]++;
            return full[0];
        };
        for (int i = 0; i < 200; i++) {
            assertThat(pages.map(page[1])).isFalse();
        }
        assertThat(tries[0]).as("tries in 200 maps, backing off").isBetween(2, 6);
        full[0] = false;
        int maps = 0;
        while (!pages.map(page[1])) {
            maps++;
            assertThat(maps).as("maps before the next try").isLessThanOrEqualTo(4096);
        }
        assertThat(allocated(1)).isTrue();
    }

    /** Review S2: a page whose own slot is refused is mapped in a free slot allocated already. */
    @Test
    void aPageWhoseSlotIsRefusedTakesAFreeAllocatedSlot() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[2])).isTrue();
        pages.take(page[2], new int[0]);
        count(2, 1); // a count that stays in slot 2 (a process killed inside an access)
        assertThat(pages.map(page[2])).isFalse();
        assertThat(pages.map(page[2])).as("moved to a spare").isTrue();
        assertThat(ShmLayout.pageSlot(file, 2)).isNotEqualTo(2);
        count(2, -1); // slot 2 drains: free, and still allocated
        SharedMemory.refuseSpace = f -> f.toString().contains("-pages@");
        assertThat(pages.map(page[1])).as("page 1 in slot 2").isTrue();
        assertThat(ShmLayout.pageSlot(file, 1)).isEqualTo(2);
    }

    /** Review F6 (S2): with no room at a map, the kept slots give their memory back first, and the map then succeeds. */
    @Test
    void theKeptSlotsGiveTheirMemoryBackFirstWhenAnAllocationIsRefused() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[2])).isTrue();
        leaves(2, true); // handed away: slot 2 kept
        assertThat(pages.kept()).isEqualTo(1);
        int[] refusals = {1};
        SharedMemory.refuseSpace = f -> f.toString().endsWith("-pages@1") && refusals[0]-- > 0; // its first try only
        assertThat(pages.map(page[1])).as("mapped once the kept slot's memory went back").isTrue();
        assertThat(refusals[0]).as("refused once, then allocated").isNegative();
        assertThat(allocated(2)).as("the kept slot, punched").isFalse();
        assertThat(pages.kept()).isZero();
        assertThat(pages.allocatedSlots()).isEqualTo(1);
    }

    /** Review F2: a page back whose map fails keeps its slot in the pool (counted in its bound), not outside it. */
    @Test
    void aPageBackWhoseMapFailsKeepsItsSlotInThePool() throws IOException {
        pageFile(1);
        assertThat(pages.map(page[1])).isTrue();
        leaves(1, true); // kept
        count(1, 1); // an access that found page 1 away, counted as it comes back
        assertThat(pages.map(page[1])).as("counted at this map: not mapped now").isFalse();
        assertThat(pages.kept()).as("its slot still in the pool").isEqualTo(1);
        count(1, -1);
        assertThat(pages.map(page[2])).isTrue();
        leaves(2, true); // over the bound: page 1's slot, the oldest kept, is punched
        assertThat(allocated(1)).as("slot 1, out of the pool").isFalse();
        assertThat(pages.allocatedSlots()).as("slot 2, kept").isEqualTo(1);
        assertThat(pages.map(page[1])).as("page 1 mapped, its slot allocated again").isTrue();
        assertThat(pages.kept()).as("page 2").isEqualTo(1);
        assertThat(pages.due()).isZero();
    }

    /**
     * Review F3: punches of this object (evictions with --max-pages) allow one try of a refused
     * slot, not one at each of them, and that try leaves the back-off as it was.
     */
    @Test
    void aPunchAllowsOneTryOfARefusedSlotAndTheBackOffGoesOn() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        int[] tries = {0};
        SharedMemory.refuseSpace = f -> f.toString().endsWith("-pages@1") && ++tries[0] > 0;
        assertThat(pages.map(page[1])).isFalse(); // call 1: refused
        for (int k = 2; k < 12; k++) { // ten evictions, each a punch, each followed by a map of page 1
            assertThat(pages.map(page[k])).isTrue();
            leaves(k, false);
            assertThat(allocated(k)).isFalse();
            assertThat(pages.map(page[1])).isFalse();
        }
        assertThat(tries[0]).as("the first try and one after a punch").isEqualTo(2);
        int calls = 11;
        while (tries[0] < 3) {
            assertThat(pages.map(page[1])).isFalse();
            calls++;
            assertThat(calls).isLessThanOrEqualTo(64);
        }
        assertThat(calls).as("the back-off's try: the 16th call after the refusal, as without punches").isEqualTo(17);
    }

    /** Review F4: a page that cannot move because the free spare cannot be allocated (no room) is not said to be blocked by counts. */
    @Test
    void aMoveRefusedForRoomIsNotWarnedAsSlotsThatCountAccesses() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(SharedPages.class);
        java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
                lines.add(e.getFormattedMessage());
            }
        };
        appender.start();
        logger.addAppender(appender);
        try {
            assertThat(pages.map(page[2])).isTrue();
            pages.take(page[2], new int[0]);
            count(2, 1); // a count that stays in slot 2
            assertThat(pages.map(page[2])).isFalse();
            SharedMemory.refuseSpace = f -> f.toString().contains("-pages@"); // no room: every spare is a hole
            assertThat(pages.map(page[2])).as("no spare can be allocated").isFalse();
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(lines).anyMatch(l -> l.startsWith("cannot allocate slot "));
        assertThat(lines).noneMatch(l -> l.contains("spare slots is free"));
    }

    /**
     * Review S3: a page moves to a spare only for a count that stayed up between two of its maps.
     * A lease renewal that finds the count drained forgets the first sighting, so a count seen
     * later (another access, found under way at the next map) is a first sighting again and the
     * page is not moved; a count that stays up still moves it at the map after. Before, the mark
     * was tied to nothing: two unrelated accesses seen at maps any time apart moved the page.
     */
    @Test
    void aCountThatDrainedAtALeaseRenewalIsNotSeenAgainInARow() throws IOException {
        pageFile(SharedPages.KEPT_SLOTS);
        assertThat(pages.map(page[1])).isTrue();
        pages.take(page[1], new int[0]); // the kernel takes page 1 back; it stays resident
        count(1, 1); // an access under way that found it unmapped
        assertThat(pages.map(page[1])).as("counted at this map: not mapped").isFalse();
        count(1, -1); // it ended
        memory.punchDue(); // a lease renewal: nothing counted in slot 1 now
        count(1, 1); // another access, later
        assertThat(pages.map(page[1])).as("a first sighting again: not mapped, not moved").isFalse();
        assertThat(pages.moves()).isZero();
        assertThat(ShmLayout.pageSlot(file, 1)).as("page 1 in its own slot").isEqualTo(1);
        assertThat(pages.map(page[1])).as("the count stayed up: moved to a spare and mapped").isTrue();
        assertThat(pages.moves()).isEqualTo(1);
    }
}
