package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

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
 * The kept slots of a session's page files together ({@link KeptSlotBudget}): with
 * {@code --max-pages} the session's oldest kept slots become due first, whichever object keeps
 * them (review S6 of shm-pool), and an object that ended leaves the session's records once
 * nothing is due in its page file (review S7). Two page files of one session made as in
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
        p.data = io.machxp.kernel.vm.PageContents.zeros(ShmTestFiles.PAGE);
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

    /**
     * An object that ended gives its kept slots back, and its page file leaves the session's
     * records once its last due slot is punched (here at a lease renewal, after an access counted
     * there drained). Before, every page file of the session stayed in them for its whole life.
     */
    @Test
    void anEndedObjectsPageFileLeavesTheRecordsOnceNothingIsDueThere() throws IOException {
        ByteBuffer file = ShmTestFiles.taskView(seven.file());
        mappedThenLeaves(seven, page(seven, 7, 0), true); // kept
        VmPage counted = page(seven, 7, 1);
        assertThat(seven.map(counted)).isTrue();
        INT.getAndAdd(file, ShmLayout.pageCtl(1), 1); // an access of a task process under way at the take
        seven.take(counted, new int[0]);
        seven.release(counted, false); // due, not punched: counted
        mappedThenLeaves(eight, page(eight, 8, 0), true);
        assertThat(memory.pageFileRecords()).isEqualTo(2);

        memory.objectTerminated(7);
        assertThat(seven.kept()).as("given back").isZero();
        assertThat(seven.due()).as("slot 1, counted").isEqualTo(1);
        assertThat(memory.pageFileRecords()).as("object 7's, a slot still due").isEqualTo(2);

        INT.getAndAdd(file, ShmLayout.pageCtl(1), -1); // the access ended
        memory.punchDue(); // a lease renewal
        assertThat(seven.due()).isZero();
        assertThat(seven.allocatedSlots()).isZero();
        assertThat(memory.pageFileRecords()).as("object 8's only").isEqualTo(1);

        memory.objectTerminated(8);
        assertThat(eight.allocatedSlots()).as("object 8's kept slot, given back").isZero();
        assertThat(memory.pageFileRecords()).isZero();
        memory.capKept(0); // nothing kept is left in the session
        memory.objectTerminated(8); // once only
    }
}
