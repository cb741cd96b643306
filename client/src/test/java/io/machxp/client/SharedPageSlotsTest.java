package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A count a task process leaves in a page's slot when it is killed inside an access (review M5):
 * the kernel cannot tell it from an access still under way, so it never maps that slot again
 * while it is up, but it maps the page in a spare slot instead of keeping it from task processes
 * for the rest of the session. And an access that counted itself in a slot that meanwhile holds
 * another page is refused.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedPageSlotsTest {
    private static final long W = 4096 + 8; // page 1, no futexes
    private final ClusterFixture c;

    SharedPageSlotsTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aPageWhoseSlotAKilledAccessLeftCountedIsServedInSharedMemoryAgain() {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        try (KernelClient killedClient = KernelClient.connect(c.cluster.kernelTargets().get(0))) {
            TaskClient killed = killedClient.taskCreate("killed");
            long base = killed.vmMap(ClusterFixture.OBJECT);
            killed.writeLong(base + W, 1);
            assertThat(killed.readLong(base + W)).isEqualTo(1);
            assertThat(killed.sharedAccesses()).as("page 1 is mapped to task processes").isPositive();
            HostileShm shm = new HostileShm(killedClient, killed);
            int slot = shm.pageCtl(W);
            // what an access killed between its counts leaves: +1 in its task's slot and in the page's
            INT.getAndAdd(shm.kernel, shm.taskCtl(), 1);
            INT.getAndAdd(shm.pages(), slot, 1);

            b.writeLong(c.base[1] + W, 2); // kernel 0 takes page 1 back (the count is still up) and gives it away
            Assertions.assertTimeoutPreemptively(Duration.ofSeconds(15), killed::terminate); // the drain's bound: 2 s
        }
        long before = a.sharedAccesses();
        assertThat(a.readLong(c.base[0] + W)).isEqualTo(2); // kernel 0 faults page 1 in and maps it again
        for (int i = 3; i < 13; i++) {
            a.writeLong(c.base[0] + W, i);
            assertThat(a.readLong(c.base[0] + W)).isEqualTo(i);
        }

        assertThat(a.sharedAccesses() - before).as("page 1's words served in shared memory again").isPositive();
        HostileShm shm = new HostileShm(c.clients.get(0), a);
        assertThat(shm.pageCtl(W)).as("in a spare slot").isNotEqualTo(ShmLayout.pageCtl(1));
        assertThat((int) INT.getVolatile(shm.pages(), ShmLayout.pageCtl(1)) & ShmLayout.ACCESSES)
                .as("the old slot keeps the count, never mapped while it is up").isEqualTo(1);
        assertThat(b.readLong(c.base[1] + W)).isEqualTo(12);
    }

    @Test
    void anAccessCountedInASlotThatNowHoldsAnotherPageIsRefused() {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        long w2 = 2 * 4096 + 8; // page 2
        a.writeLong(c.base[0] + W, 1);
        a.writeLong(c.base[0] + w2, 22);
        assertThat(a.readLong(c.base[0] + W)).isEqualTo(1);
        HostileShm shm = new HostileShm(c.clients.get(0), a);
        ByteBuffer pages = shm.pages();
        int home1 = ShmLayout.pageCtl(1);
        SharedWords words = a.sharedWords();
        long[] out = new long[1];
        words.beforeCount = () -> { // the access has read page 1's slot (its own, 1), not yet counted itself
            words.beforeCount = null;
            INT.getAndAdd(pages, home1, 1); // an access left in slot 1
            b.writeLong(c.base[1] + W, 2); // page 1 taken back
            assertThat(a.readLong(c.base[0] + W)).isEqualTo(2); // not mapped: counted at this map
            assertThat(a.readLong(c.base[0] + W)).isEqualTo(2); // counted again: mapped in a spare slot
            assertThat(shm.pageCtl(W)).isNotEqualTo(home1);
            INT.getAndAdd(pages, home1, -1); // that access ended: slot 1 is free
            INT.getAndAdd(pages, shm.pageCtl(w2), 1); // an access left in page 2's slot
            b.writeLong(c.base[1] + w2, 33); // page 2 taken back
            assertThat(a.readLong(c.base[0] + w2)).isEqualTo(33); // not mapped: counted at this map
            assertThat(a.readLong(c.base[0] + w2)).isEqualTo(33); // counted again: mapped in slot 1
            assertThat(shm.pageCtl(w2)).as("page 2 is in page 1's old slot").isEqualTo(home1);
        };

        assertThat(words.read(c.base[0] + W, 8, out)).as("slot 1 holds page 2 now: refused").isFalse();

        assertThat(a.readLong(c.base[0] + W)).isEqualTo(2);
        assertThat(a.readLong(c.base[0] + w2)).isEqualTo(33);
    }

    /**
     * A count seen at one map is most likely an access under way that found the page unmapped
     * (review P3): the page is not moved for it; once that access ends it is mapped in its own slot.
     */
    @Test
    void aCountSeenAtOneMapOnlyIsWaitedForNotMovedFrom() {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        a.writeLong(c.base[0] + W, 1);
        HostileShm shm = new HostileShm(c.clients.get(0), a);
        ByteBuffer pages = shm.pages();
        int home1 = ShmLayout.pageCtl(1);
        assertThat(shm.pageCtl(W)).isEqualTo(home1);
        INT.getAndAdd(pages, home1, 1); // an access under way in slot 1
        b.writeLong(c.base[1] + W, 2); // page 1 taken back
        assertThat(a.readLong(c.base[0] + W)).isEqualTo(2); // through the kernel: counted at this map, not mapped
        INT.getAndAdd(pages, home1, -1); // that access ended

        assertThat(a.readLong(c.base[0] + W)).isEqualTo(2); // mapped again
        long before = a.sharedAccesses();
        assertThat(a.readLong(c.base[0] + W)).isEqualTo(2);
        assertThat(a.sharedAccesses() - before).as("served in shared memory").isPositive();
        assertThat(shm.pageCtl(W)).as("in its own slot, not a spare").isEqualTo(home1);
    }

}
