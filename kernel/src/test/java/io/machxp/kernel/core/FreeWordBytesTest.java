package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * The page's bytes carry a free futex word as the task left it when no boost is kept over a broken
 * stream (review late14 MED-1: every free word lost its FUTEX_WAITERS as the page left, a task's
 * write of 0x80000000 read back 0 elsewhere; Linux's word is plain memory).
 */
class FreeWordBytesTest {
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, 1000);

    private static int wordAt(byte[] page, int at) {
        return java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    @Test
    void aTaskWrittenFreeWaitersWordSurvivesThePagesReturn() {
        MachThread owner = k.thread(5);
        k.acquireFromPager(owner, k.base);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.baseWord()).isZero();
        // The task writes plain memory: 0x80000000 (free | FUTEX_WAITERS), nobody waits anywhere.
        assertThat(k.write(k.base, new byte[] {0, 0, 0, (byte) 0x80}).answered()).isTrue();
        assertThat(k.read(k.base, 4).value()).as("read here while live").containsExactly(0, 0, 0, 0x80);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true); // downgraded to read-only
        byte[] returned = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn().getData().toByteArray();
        assertThat(wordAt(returned, 0)).as("Linux: the word is plain memory, what the task wrote").isEqualTo(0x80000000);
    }
}
