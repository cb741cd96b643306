package io.machxp.workbench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Strict alternation's rule: the lock another node acquired most recently. */
class AlternationTest {
    private static int next(int node, int[] lastNode, long[] stamp) {
        return Alternation.next(node, lastNode.length, f -> lastNode[f], f -> stamp[f], new SplittableRandom(1));
    }

    @Test
    void takesTheLockAnotherNodeAcquiredMostRecently() {
        int[] lastNode = {1, 2, 0, 1};
        long[] stamp = {5, 7, 9, 6};
        assertThat(next(0, lastNode, stamp)).as("lock 2 is newer but node 0's own").isEqualTo(1);
        assertThat(next(2, lastNode, stamp)).isEqualTo(2);
        assertThat(next(1, lastNode, stamp)).isEqualTo(2);
    }

    @Test
    void beforeAnotherNodeAcquiredAnythingALockAtRandom() {
        int[] lastNode = {-1, 0, -1};
        long[] stamp = {0, 3, 0};
        for (int i = 0; i < 20; i++) {
            int lock = Alternation.next(0, 3, f -> lastNode[f], f -> stamp[f], new SplittableRandom(i));
            assertThat(lock).isBetween(0, 2);
        }
        assertThat(next(1, lastNode, stamp)).isEqualTo(1);
    }
}
