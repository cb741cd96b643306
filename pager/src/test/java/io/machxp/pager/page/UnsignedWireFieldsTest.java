package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.futex.WaitedNanos;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * uint32 and uint64 fields read as such (the reviewer's F11): a protocol_version of 2^32-1 is
 * named so, and a lock_futex.waited_nanos of 2^63-1 or more saturates (xp-spec 8.6) instead of
 * wrapping to a waiter that just began.
 */
class UnsignedWireFieldsTest {
    private static final long LEASE = 1_000_000_000L;
    private final XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);

    @Test
    void aProtocolVersionOfTwoToThe32MinusOneIsNamedUnsigned() {
        k.pager.sessionOpened(1);
        k.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(-1)));
        assertThat(k.ended.get(1L)).contains("asks for XP protocol version 4294967295;");
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, Long.MIN_VALUE, -1L})
    void aWaitOfTwoToThe63MinusOneOrMoreIsRelayedAsTheLongest(long waitedNanos) {
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B");
        k.lockFutex(a, 0);
        k.take(a);
        k.xp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setWaitedNanos(waitedNanos)));
        long relayed = k.one(a).getMemoryObjectRelinquishFutex().getWaitedNanos();
        assertThat(relayed).isEqualTo(WaitedNanos.MAX);
    }
}
