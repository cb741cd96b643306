package io.machxp.pager.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.admin.XpMessageTrace;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** The pager's trace of XP messages: off unless watched, described in words, bounded, handoffs marked. */
class XpTraceTest {
    private static final IntFunction<String> OBJECTS = id -> id == 1 ? "shared" : null;

    private static KernelToPager lock(long offset, int priority) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(1)
                .setOffset(offset).setPriority(priority)).build();
    }

    @Test
    void recordsOnlyWhileWatched() {
        XpTrace trace = new XpTrace();
        assertThat(trace.on()).isFalse();
        long[] cursor = trace.open();
        assertThat(trace.on()).isTrue();
        trace.close();
        assertThat(trace.on()).isFalse();
        assertThat(cursor).containsExactly(0, 0);
    }

    @Test
    void describesAMessageWithItsKernelObjectOffsetAndFields() {
        XpTrace trace = new XpTrace();
        long[] cursor = trace.open();
        trace.received(7, "A", OBJECTS, lock(64, 40));
        XpTrace.Batch batch = trace.since(cursor[0], cursor[1], 50, 20);
        assertThat(batch.messages()).hasSize(1);
        XpMessageTrace m = batch.messages().get(0);
        assertThat(m.getSequence()).isEqualTo(1);
        assertThat(m.getKernel()).isEqualTo("A");
        assertThat(m.getToKernel()).isFalse();
        assertThat(m.getRoutine()).isEqualTo("memory_object_lock_futex");
        assertThat(m.getObject()).isEqualTo("shared");
        assertThat(m.getOffset()).isEqualTo(64);
        assertThat(m.getDetail()).isEqualTo("priority 40");
        assertThat(batch.missed()).isZero();
        assertThat(trace.since(batch.next(), batch.nextHandoff(), 50, 20).messages()).isEmpty();
    }

    @Test
    void aHandoffMarksItsGrantAndIsKeptApart() {
        XpTrace trace = new XpTrace();
        long[] cursor = trace.open();
        trace.handoff(9, "shared", 64, "A");
        trace.sent(9, "B", OBJECTS, PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted
                .newBuilder().setObjectId(1).setOffset(64).setFencingToken(5).setHandoff(true)).build());
        XpTrace.Batch batch = trace.since(cursor[0], cursor[1], 50, 20);
        assertThat(batch.messages().get(0).getHandoffFrom()).isEqualTo("A");
        assertThat(batch.messages().get(0).getDetail()).isEqualTo("fencing token 5, handoff");
        assertThat(batch.handoffs()).extracting(XpMessageTrace::getKernel).containsExactly("B");
    }

    @Test
    void aWatcherThatFallsBehindGetsTheLatestAndIsToldHowManyItMissed() {
        XpTrace trace = new XpTrace();
        long[] cursor = trace.open();
        int sent = XpTrace.CAPACITY + 100;
        for (int i = 0; i < sent; i++) {
            trace.received(7, "A", OBJECTS, lock(4L * i, 1));
        }
        XpTrace.Batch batch = trace.since(cursor[0], cursor[1], 50, 20);
        assertThat(batch.messages()).hasSize(50);
        assertThat(batch.messages().get(49).getSequence()).isEqualTo(sent);
        assertThat(batch.missed()).isEqualTo(sent - 50);
        assertThat(batch.next()).isEqualTo(sent);
    }
}
