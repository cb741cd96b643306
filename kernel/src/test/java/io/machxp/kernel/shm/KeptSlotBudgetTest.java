package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.vm.VmPage;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kept slots of a session's page files together ({@link KeptSlotBudget}): with
 * {@code --max-pages} the session's oldest kept slots become due first, whichever object keeps
 * them (review S6 of shm-pool). Two page files of one session made as in
 * production, in a directory of this test's own under {@code /dev/shm}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class KeptSlotBudgetTest {
    private static final int PAGES = 16;

    private ShmTestFiles files;
    private SharedMemory memory;
    private SharedPages seven;
    private SharedPages eight;

    @BeforeEach
    void directory() throws IOException {
        files = ShmTestFiles.make("kept-budget-test-").punchable();
        memory = files.memory();
        seven = files.pageFile(7, PAGES);
        eight = files.pageFile(8, PAGES);
    }

    @AfterEach
    void removeDirectory() throws IOException {
        if (files != null) {
            files.close();
        }
    }

    /** Page {@code i} of {@code pages}' object, resident writable. */
    private static VmPage page(SharedPages pages, int objectId, int i) {
        VmPage p = new VmPage(objectId, (long) i * ShmTestFiles.PAGE, ShmTestFiles.PAGE, null, pages);
        p.data = new byte[ShmTestFiles.PAGE];
        p.access = VmPage.Access.READ_WRITE;
        return p;
    }

    /** {@code p} mapped to task processes, then taken back and released (handed away: its slot kept, or not). */
    private static void mappedThenLeaves(SharedPages pages, VmPage p, boolean handedAway) {
        assertThat(pages.map(p)).isTrue();
        pages.take(p, new int[0]);
        pages.release(p, handedAway);
    }

    /**
     * Object 7 keeps two slots, then object 8 one: room for one leaves object 8's, the newest.
     * Before, the cap took the oldest of each pool in turn, so object 8's only slot went with
     * object 7's oldest and object 7's second stayed. A slot kept again goes to the end.
     */
    @Test
    void theSessionsOldestKeptSlotsBecomeDueFirstWhicheverObjectKeepsThem() {
        VmPage s0 = page(seven, 7, 0);
        mappedThenLeaves(seven, s0, true);
        mappedThenLeaves(seven, page(seven, 7, 1), true);
        mappedThenLeaves(eight, page(eight, 8, 0), true);

        memory.capKept(1);

        assertThat(seven.kept()).as("object 7's kept slots, the two oldest").isZero();
        assertThat(eight.kept()).as("object 8's, the newest").isEqualTo(1);
        assertThat(seven.allocatedSlots()).as("object 7's slots, punched").isZero();
        assertThat(eight.allocatedSlots()).isEqualTo(1);

        mappedThenLeaves(seven, s0, true); // page 0 of object 7 back and handed away again: now the newest
        memory.capKept(1);

        assertThat(eight.kept()).as("object 8's, now the oldest").isZero();
        assertThat(seven.kept()).isEqualTo(1);
    }
}
