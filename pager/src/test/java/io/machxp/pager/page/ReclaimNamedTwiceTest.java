package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A reclaim that names a page twice (xp-spec 9.4, 9.5: one entry a page, its access, version and
 * any unconfirmed data together): the page is refused whatever the order of the entries, and the
 * kernel is always told to drop it, so it never keeps a copy the pager no longer counts (review
 * indep-2 N1: held entry first, then the NONE entry with data, dropped the hold silently).
 */
class ReclaimNamedTwiceTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int PAGE = XpKernels.PAGE;
    private final MemoryPageStore store = new MemoryPageStore();
    private final XpKernels x = new XpKernels(store, new PagerOptions(LEASE, 4).withGrace(LEASE));

    private static ReclaimedPage held(VmProt access, long version) {
        return ReclaimedPage.newBuilder().setOffset(PAGE).setAccess(access).setVersion(version).build();
    }

    private static ReclaimedPage returned(long version, byte[] data) {
        return ReclaimedPage.newBuilder().setOffset(PAGE).setAccess(VmProt.VM_PROT_NONE).setVersion(version)
                .setData(ByteString.copyFrom(data)).build();
    }

    private List<PagerToKernel> reclaim(ReclaimedPage... pages) {
        x.pager.sessionOpened(1);
        x.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1).addObjects(
                        ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)
                                .addAllPages(List.of(pages))))));
        return x.take(1);
    }

    private static void assertOneDiscard(List<PagerToKernel> a) {
        assertThat(a.get(0).hasPagerWelcome()).isTrue();
        assertThat(a).as("the welcome, then one discard of the page").hasSize(2);
        MemoryObjectLockRequest discard = a.get(1).getMemoryObjectLockRequest();
        assertThat(discard.getOffset()).isEqualTo(PAGE);
        assertThat(discard.getShouldFlush()).isTrue();
        assertThat(discard.getShouldReturnValue()).isZero();
        assertThat(discard.getLockValue()).isEqualTo(VmProt.VM_PROT_NONE);
    }

    /** Review indep-fix F6: the "reclaimed ... pages" log line counts only the pages taken. */
    @Test
    void theReclaimLogLineCountsOnlyThePagesTaken() {
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        ch.qos.logback.classic.Logger core = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                io.machxp.pager.core.PagerCore.class);
        logged.start();
        core.addAppender(logged);
        ch.qos.logback.classic.Level level = core.getLevel();
        core.setLevel(ch.qos.logback.classic.Level.INFO); // the line is INFO
        try {
            store.write("obj", PAGE, XpKernels.page(1), 1);
            assertOneDiscard(reclaim(held(VmProt.VM_PROT_READ_WRITE, 1), returned(2, XpKernels.page(9))));
        } finally {
            core.detachAppender(logged);
            core.setLevel(level);
        }
        assertThat(logged.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .filteredOn(m -> m.contains("reconnected")).singleElement().asString()
                .contains("reclaimed 0 futexes and 0 pages (1 page entries refused)");
    }

    @ParameterizedTest
    @EnumSource(value = VmProt.class, names = {"VM_PROT_READ", "VM_PROT_READ_WRITE"})
    void theHeldEntryFirstThenTheReturnedData(VmProt access) {
        store.write("obj", PAGE, XpKernels.page(1), 1);
        assertOneDiscard(reclaim(held(access, 1), returned(2, XpKernels.page(9))));
        assertThat(x.pager.pageReaders("obj", PAGE)).isEmpty();
        assertThat(x.pager.pageWriter("obj", PAGE)).isNull();
        assertThat(store.version("obj", PAGE)).as("nothing of a page named twice is taken").isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = VmProt.class, names = {"VM_PROT_READ", "VM_PROT_READ_WRITE"})
    void theReturnedDataFirstThenTheHeldEntry(VmProt access) {
        store.write("obj", PAGE, XpKernels.page(1), 1);
        assertOneDiscard(reclaim(returned(2, XpKernels.page(9)), held(access, 2)));
        assertThat(x.pager.pageReaders("obj", PAGE)).isEmpty();
        assertThat(x.pager.pageWriter("obj", PAGE)).isNull();
    }

    @Test
    void theReturnedDataTwiceIsDiscardedToo() {
        store.write("obj", PAGE, XpKernels.page(1), 1);
        assertOneDiscard(reclaim(returned(2, XpKernels.page(9)), returned(2, XpKernels.page(9))));
    }

    /** The form 9.4 asks for: one entry, the access held, the version and data of the unconfirmed return. */
    @Test
    void oneEntryWithAccessVersionAndDataIsTaken() {
        store.write("obj", PAGE, XpKernels.page(1), 1);
        List<PagerToKernel> a = reclaim(ReclaimedPage.newBuilder().setOffset(PAGE)
                .setAccess(VmProt.VM_PROT_READ).setVersion(2).setData(ByteString.copyFrom(XpKernels.page(9))).build());
        assertThat(a).hasSize(1);
        assertThat(x.pager.pageReaders("obj", PAGE)).containsExactly("A");
        assertThat(store.version("obj", PAGE)).isEqualTo(2);
        assertThat(store.read("obj", PAGE)).isEqualTo(XpKernels.page(9));
    }
}
