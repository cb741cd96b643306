package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import org.junit.jupiter.api.Test;

/**
 * Outside review 3, O3-2: a kernel that gives the same version twice for two msyncs of one page
 * (kernel_copy = true) has its second return refused as stale. Before, the synchronize after it was
 * still answered with an empty error (spec 6.9 forbids it) and the task's msync said done while
 * every other kernel read the older data; now it is answered with an error naming the page.
 */
class StaleReturnSynchronizeTest {
    private final FailingStore store = new FailingStore(0);
    private final XpKernels k = new XpKernels(store);
    private final long a = k.kernel(1, "A");

    private void returnVersion(long s, long offset, byte[] data, long version) {
        k.xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setData(ByteString.copyFrom(data)).setDirty(true)
                .setKernelCopy(true).setVersion(version)));
    }

    @Test
    void aSynchronizeAfterAStaleReturnIsAnsweredWithAnErrorAndOnlyOnce() {
        k.write(a, 0);
        k.take(a);
        returnVersion(a, 0, page(1), 1);
        k.synchronize(a, 0, PAGE);
        assertThat(k.one(a).getMemoryObjectSynchronizeCompleted().getError()).isEmpty();

        returnVersion(a, 0, page(2), 1); // the first reading of spec 7.2: the version it was supplied with, + 1
        k.synchronize(a, 0, PAGE);
        String error = k.one(a).getMemoryObjectSynchronizeCompleted().getError();
        assertThat(error).contains("page 0x0").contains("version 1 was not taken").contains("pager's copy is version 1");

        k.synchronize(a, 0, PAGE); // reported once
        assertThat(k.one(a).getMemoryObjectSynchronizeCompleted().getError()).isEmpty();
        assertThat(store.read("obj", 0)).as("the refused data is not the pager's copy").isEqualTo(page(1));
    }

    @Test
    void aLaterReturnThatIsTakenClearsTheRefusalAndOtherPagesAreNotBlamed() {
        k.write(a, 0);
        k.take(a);
        k.write(a, PAGE);
        k.take(a);
        returnVersion(a, 0, page(1), 1);
        returnVersion(a, 0, page(2), 1);
        k.synchronize(a, PAGE, PAGE); // another page: nothing refused there
        assertThat(k.one(a).getMemoryObjectSynchronizeCompleted().getError()).isEmpty();
        returnVersion(a, 0, page(3), 2); // the kernel's newer data is taken: it is the pager's copy now
        k.synchronize(a, 0, 2 * PAGE);
        assertThat(k.one(a).getMemoryObjectSynchronizeCompleted().getError()).isEmpty();
    }

    @Test
    void aReturnOfThePagersOwnCopyGivenAgainIsNotAnError() {
        k.write(a, 0);
        k.take(a);
        returnVersion(a, 0, page(1), 1);
        returnVersion(a, 0, page(1), 1); // the same data again (as after a lost answer): it is the pager's copy
        k.synchronize(a, 0, PAGE);
        assertThat(k.one(a).getMemoryObjectSynchronizeCompleted().getError()).isEmpty();
    }
}
