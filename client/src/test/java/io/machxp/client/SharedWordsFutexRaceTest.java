package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A word of a mapped page that becomes a futex's while a task process's write is on its way is
 * not written as a plain word (review M1): the write checks for the futex after it counted itself
 * in the page, so the kernel's take and new mapping cannot slip in between the check and the CAS.
 * The interleaving is forced through SharedWords' test hook, which runs inside the access before
 * it counts itself.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedWordsFutexRaceTest {
    private static final long W = 4096 + 16;
    private static final long OTHER = 4096 + 64;

    @Test
    void aWordThatBecameAFutexBeforeTheWriteCountedIsTheKernels() throws Exception {
        try (ClusterFixture c = new ClusterFixture(1)) {
            TaskClient a = c.tasks.get(0);
            long base = c.base[0];
            SharedWords words = a.sharedWords();
            long[] out = new long[1];
            a.writeLong(base + OTHER, 7);
            a.readLong(base + OTHER);
            assertThat(words.read(base + OTHER, 8, out)).as("page 1 mapped to the process").isTrue();
            ThreadClient t = c.thread(0);
            words.beforeCount = () -> {
                words.beforeCount = null;
                t.lockFutex(base + W); // the kernel takes page 1 back and keys W
                t.unlockFutex(base + W);
                a.readLong(base + OTHER); // served by the kernel, which maps page 1 again
                assertThat(words.read(base + OTHER, 8, out)).as("page 1 mapped again").isTrue();
            };
            long value = (5L << 32) | 3;

            assertThat(words.write(base + W, 8, value)).as("W is a futex's word now: the kernel writes it").isFalse();

            a.writeLong(base + W, value);
            assertThat(a.readLong(base + W)).isEqualTo(value);
        }
    }
}
