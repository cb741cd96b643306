package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.FilePageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A page damaged on the pager's disk (a byte flipped under its checksum) is answered with
 * memory_object_data_error, never supplied; every other page is served as before; a kernel that
 * gives the page back (here a reclaim after the pager's restart) replaces it.
 */
class DamagedPageTest {
    private static final long LEASE = 1_000_000_000L;

    @TempDir
    Path dir;

    /** A kernel returned pages 0 and 1 (0x11s, 0x22s) to a pager that then stopped; page 1 is then damaged. */
    private void storeWithPageOneDamaged() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            XpKernels before = new XpKernels(store);
            long a = before.kernel(1, "A");
            before.write(a, 0);
            before.take(a);
            before.returnDirty(a, 0, page(0x11), false);
            before.write(a, PAGE);
            before.take(a);
            before.returnDirty(a, PAGE, page(0x22), false);
        }
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("obj.pages").toFile(), "rw")) {
            f.seek(PAGE + 5);
            f.write(0x23);
        }
    }

    @Test
    void aDamagedPageIsAnsweredWithDataErrorAndEveryOtherPageIsServed() throws IOException {
        storeWithPageOneDamaged();
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            XpKernels after = new XpKernels(store);
            long b = after.kernel(1, "B");
            after.read(b, PAGE);
            PagerToKernel answer = after.one(b);
            assertThat(answer.hasMemoryObjectDataError()).as("%s", answer).isTrue();
            assertThat(answer.getMemoryObjectDataError().getOffset()).isEqualTo(PAGE);
            assertThat(answer.getMemoryObjectDataError().getReason()).contains("page 0x1000 of 'obj'")
                    .contains(dir.resolve("obj.pages").toAbsolutePath().toString()).contains("is damaged");
            assertThat(after.stats.storeDamaged()).isEqualTo(1);
            assertThat(after.stats.storeFailures()).isZero();
            after.read(b, 0);
            assertReadCopy(after.one(b), 0, page(0x11));
            after.read(b, 2L * PAGE);
            assertReadCopy(after.one(b), 2L * PAGE, null);
            after.read(b, PAGE);
            assertThat(after.one(b).hasMemoryObjectDataError()).as("asked again: still not served").isTrue();
        }
    }

    @Test
    void aKernelsReclaimedCopyReplacesADamagedPage() throws IOException {
        storeWithPageOneDamaged();
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            XpKernels after = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));
            after.pager.sessionOpened(1);
            after.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                    .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(
                            ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)
                                    .addPages(ReclaimedPage.newBuilder().setOffset(PAGE)
                                            .setAccess(VmProt.VM_PROT_NONE).setVersion(2)
                                            .setData(ByteString.copyFrom(page(0x33))))))));
            after.take(1);
            assertThat(store.read("obj", PAGE)).isEqualTo(page(0x33));
            assertThat(store.version("obj", PAGE)).isEqualTo(2);
            for (int i = 0; i < 4; i++) { // the grace period passes, A keeping its lease
                after.advance(LEASE / 4);
                after.keepalive(1, 100 + i);
                after.take(1);
            }
            assertThat(after.pager.inGrace()).isFalse();
            long b = after.kernel(2, "B");
            after.read(b, PAGE);
            assertReadCopy(after.one(b), PAGE, page(0x33));
        }
    }
}
