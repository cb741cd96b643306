package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.FilePageStore;
import io.machxp.pager.store.StoreCrashes;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pager's process dies in the middle of storing a page a kernel gave back (after the new
 * record, before the data). The next pager on the store serves the page's previous
 * version, never data_error: without a lease nobody can give the newer copy back; with one, the
 * kernel that returned it reclaims it and it replaces the old.
 */
class CrashedReturnTest {
    private static final long LEASE = 1_000_000_000L;

    @TempDir
    Path dir;

    /** Kernel A returned 0x11s for page 0 (stored), then 0x22s, whose write the crash cut off. */
    private void returnCutOffByACrash(long leaseNanos) throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        XpKernels before = new XpKernels(store, leaseNanos);
        long a = before.kernel(1, "A");
        before.write(a, 0);
        before.take(a);
        before.returnDirty(a, 0, page(0x11), false);
        assertThat(store.read("obj", 0)).isEqualTo(page(0x11));
        before.write(a, 0);
        before.take(a);
        StoreCrashes.crashAfterRecord(store);
        before.returnDirty(a, 0, page(0x22), false);
        assertThat(before.stats.storeFailures()).as("the write did not finish").isEqualTo(1);
        // the process is gone: its store and core are dropped as they are
    }

    @Test
    void withoutALeaseThePreviousVersionIsServed() throws IOException {
        returnCutOffByACrash(0);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            XpKernels after = new XpKernels(store);
            long b = after.kernel(1, "B");
            after.read(b, 0);
            assertReadCopy(after.one(b), 0, page(0x11));
            assertThat(after.stats.storeDamaged()).isZero();
        }
    }

    @Test
    void withALeaseTheReturningKernelsReclaimReplacesThePreviousVersion() throws IOException {
        returnCutOffByACrash(LEASE);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.read("obj", 0)).as("before the reclaim").isEqualTo(page(0x11));
            long stored = store.version("obj", 0);
            XpKernels after = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));
            after.pager.sessionOpened(1);
            after.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                    .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(
                            ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)
                                    .addPages(ReclaimedPage.newBuilder().setOffset(0)
                                            .setAccess(VmProt.VM_PROT_NONE).setVersion(stored + 1)
                                            .setData(ByteString.copyFrom(page(0x22))))))));
            after.take(1);
            assertThat(store.read("obj", 0)).isEqualTo(page(0x22));
            for (int i = 0; i < 4; i++) { // the grace period passes, A keeping its lease
                after.advance(LEASE / 4);
                after.keepalive(1, 100 + i);
                after.take(1);
            }
            long b = after.kernel(2, "B");
            after.read(b, 0);
            assertReadCopy(after.one(b), 0, page(0x22));
            assertThat(after.stats.storeDamaged()).isZero();
        }
    }
}
