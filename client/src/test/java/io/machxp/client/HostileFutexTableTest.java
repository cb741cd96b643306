package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.AcquirePath;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task process that writes an object's futex table raw (docs/shared-memory.md, "What a task
 * process can do to the files"): the keys there are for task processes to find a futex; the
 * kernel keeps which slots it keyed itself, so forged keys cannot stall its core or make two
 * futexes share a slot.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileFutexTableTest {
    private final ClusterFixture c;

    HostileFutexTableTest() throws Exception {
        c = new ClusterFixture(1);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void forgedKeysInEverySlotDoNotStallTheKernel() {
        ThreadClient t = c.thread(0);
        t.lockFutex(c.base[0] + 64);
        t.unlockFutex(c.base[0] + 64);
        HostileShm hostile = new HostileShm(c.clients.get(0), c.tasks.get(0));
        ByteBuffer table = hostile.futexTable();
        int capacity = (int) (long) LONG.getVolatile(table, ShmLayout.TABLE_CAPACITY);
        for (int i = 0; i < capacity; i++) {
            LONG.compareAndSet(table, ShmLayout.futexSlot(i), 0L, Long.MAX_VALUE); // every free slot looks taken
        }

        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            assertThat(t.lockFutex(c.base[0] + 256)).as("a futex new to the kernel").isEqualTo(AcquirePath.PAGER_GRANT);
            t.unlockFutex(c.base[0] + 256);
            assertThat(t.lockFutex(c.base[0] + 256)).as("found in the table again").isEqualTo(AcquirePath.FAST_PATH);
            t.unlockFutex(c.base[0] + 256);
            assertThat(t.lockFutex(c.base[0] + 64)).isEqualTo(AcquirePath.FAST_PATH);
            t.unlockFutex(c.base[0] + 64);
        });
    }
}
