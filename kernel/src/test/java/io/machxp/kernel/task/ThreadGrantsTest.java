package io.machxp.kernel.task;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ThreadGrantsTest {
    @Test
    void oneGrantPerFutexTheNewestReplaces() {
        ThreadGrants grants = new ThreadGrants();
        FutexGrant a1 = FutexGrant.next(0x1000, 1);
        FutexGrant b = FutexGrant.next(0x2000, 2);
        FutexGrant a2 = FutexGrant.next(0x1000, 3);
        grants.record(a1);
        grants.record(b);
        grants.record(a2);
        assertThat(grants.size()).isEqualTo(2);
        assertThat(grants.of(0x1000)).isSameAs(a2);
        assertThat(grants.holds(a1)).isFalse();
        assertThat(grants.holds(b)).isTrue();
    }

    @Test
    void aGrantIsUsedUpOnce() {
        ThreadGrants grants = new ThreadGrants();
        FutexGrant a = FutexGrant.next(0x1000, 1);
        grants.record(a);
        assertThat(grants.useUp(a)).isTrue();
        assertThat(grants.useUp(a)).isFalse();
        assertThat(grants.of(0x1000)).isNull();
    }

    @Test
    void beyondTheBoundTheOldestGrantIsForgotten() {
        ThreadGrants grants = new ThreadGrants();
        FutexGrant first = FutexGrant.next(0, 1);
        grants.record(first);
        for (int i = 1; i < ThreadGrants.MAX; i++) {
            grants.record(FutexGrant.next(4L * i, i + 1));
        }
        assertThat(grants.size()).isEqualTo(ThreadGrants.MAX);
        FutexGrant second = grants.of(4);
        FutexGrant beyond = FutexGrant.next(4L * ThreadGrants.MAX, 1_000);
        grants.record(beyond);
        assertThat(grants.size()).isEqualTo(ThreadGrants.MAX);
        assertThat(grants.holds(first)).as("the oldest goes").isFalse();
        assertThat(grants.holds(second)).isTrue();
        assertThat(grants.holds(beyond)).isTrue();
    }
}
