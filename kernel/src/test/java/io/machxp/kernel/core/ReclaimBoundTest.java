package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * A reclaim over the size a pager takes (xp-spec 9.4, {@link ReclaimBound}) leaves out the pages
 * the kernel holds read-only, and drops them here, and keeps the futexes, the writable pages and
 * the data given back that the pager has not confirmed: no write is lost to the bound. Before, the
 * whole account went in one hello whatever its size, which a pager's transport refused.
 */
class ReclaimBoundTest {
    private static final long LEASE_MS = 1000;
    private static final int PAGE = CoreFixture.PAGE;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);

    /** The kernel holds futex 0 (page 0 writable), gave back page 1 dirty and reads pages 2 and 3 (of 4). */
    private void holdsAFutexAReturnAndReadOnlyPages() {
        Answer<AcquirePath> a = k.lock(k.thread(), k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setFencingToken(5L << 32 | 3)).build());
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.zeroFill(0);
        assertThat(a.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        k.write(k.base + PAGE, new byte[] {42});
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(PAGE);
        k.zeroFill(PAGE);
        k.lockRequest(PAGE, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true); // given back, flushed
        assertThat(k.env.drain().get(0).getMemoryObjectDataReturn().getDirty()).isTrue();
        for (int i = 2; i < 4; i++) {
            Answer<byte[]> r = k.read(k.base + (long) i * PAGE, 1);
            assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo((long) i * PAGE);
            k.supply((long) i * PAGE, new byte[PAGE], VmProt.VM_PROT_WRITE);
            assertThat(r.answered()).isTrue();
        }
    }

    private ReclaimedObject reclaimAfterABreak() {
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        KernelToPager hello = k.single();
        assertThat(hello.getSerializedSize()).isLessThanOrEqualTo(k.core.sessions.primary().reclaim.maxReclaimBytes);
        assertThat(hello.getKernelHello().getProtocolVersion()).as("a reclaim in one message is version 1").isEqualTo(1);
        return hello.getKernelHello().getReclaim().getObjects(0);
    }

    @Test
    void aReclaimWithinTheBoundNamesEveryPage() {
        holdsAFutexAReturnAndReadOnlyPages();
        ReclaimedObject o = reclaimAfterABreak();
        assertThat(o.getPagesList()).hasSize(4);
        assertThat(o.getFutexesList()).hasSize(1);
    }

    @Test
    void overTheBoundTheReadOnlyPagesAreDroppedAndReadAgainAndNoWriteIsLeftOut() {
        holdsAFutexAReturnAndReadOnlyPages();
        // Room for the futex, page 0, page 1's data and a little more, not for two more pages.
        k.core.sessions.primary().reclaim.maxReclaimBytes = PAGE + 176; // the whole account is some 4,290 bytes (boot_nonce and attempt: 11 of them; the hello's features relinquish_hint, end_info, directory_disputes and stale_heir_tid: 17, 10, 20 and 16)
        ReclaimedObject o = reclaimAfterABreak();
        assertThat(o.getFutexesList()).hasSize(1);
        assertThat(o.getPagesList()).extracting(ReclaimedPage::getOffset).containsExactly(0L, (long) PAGE);
        assertThat(o.getPages(0).getAccess()).isEqualTo(VmProt.VM_PROT_READ_WRITE);
        assertThat(o.getPages(1).getData().byteAt(0)).as("the unconfirmed return").isEqualTo((byte) 42);
        assertThat(k.core.objects.object(CoreFixture.OBJECT_ID).page(2L * PAGE).resident()).isFalse();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(PAGE).setLeaseMillis(LEASE_MS).setSessionEpoch(6)).build());
        k.env.drain();
        k.read(k.base + 2L * PAGE, 1);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("read again").isEqualTo(2L * PAGE);
    }

    /**
     * To a pager whose welcome said reclaim_in_parts, a reclaim over one message goes in parts,
     * each within the bound, and nothing is dropped: the hello says continues, the further parts
     * are memory_object_reclaim_continue, the last without continues. Before, the kernel sent one
     * hello whatever its size (the pager took 64 MiB), and over the bound dropped the read-only pages.
     */
    @Test
    void toAPagerThatTakesPartsALargeReclaimGoesInPartsAndDropsNothing() {
        holdsAFutexAReturnAndReadOnlyPages();
        for (int i = 2; i < 4; i++) { // pages 2 and 3 are given back dirty too: three returns of a page each
            k.write(k.base + (long) i * PAGE, new byte[] {(byte) i});
            k.env.drain(); // the data_unlock
            k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectLockRequest(io.machxp.proto.xp.MemoryObjectLockRequest
                    .newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset((long) i * PAGE).setLength(PAGE)
                    .setLockValue(VmProt.VM_PROT_NONE)).build()); // write access given
            k.lockRequest((long) i * PAGE, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
            k.env.drain();
        }
        k.core.sessions.primary().pagerTakesReclaimParts = true; // as a welcome with reclaim_in_parts sets it
        SessionReclaim reclaim = k.core.sessions.primary().reclaim;
        reclaim.maxPartBytes = PAGE + 1024; // the account is some 12,500 bytes: at most one page's data a part
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        java.util.List<KernelToPager> sent = k.env.drain();
        assertThat(sent.size()).isGreaterThan(1);
        assertThat(sent.get(0).getKernelHello().getReclaim().getContinues()).isTrue();
        java.util.List<ReclaimedPage> pages = new java.util.ArrayList<>(sent.get(0).getKernelHello().getReclaim()
                .getObjects(0).getPagesList());
        int futexes = sent.get(0).getKernelHello().getReclaim().getObjects(0).getFutexesCount();
        for (int i = 1; i < sent.size(); i++) {
            assertThat(sent.get(i).hasMemoryObjectReclaimContinue()).isTrue();
            assertThat(sent.get(i).getMemoryObjectReclaimContinue().getContinues()).isEqualTo(i < sent.size() - 1);
            for (ReclaimedObject o : sent.get(i).getMemoryObjectReclaimContinue().getObjectsList()) {
                assertThat(o.getObjectId()).isEqualTo(CoreFixture.OBJECT_ID);
                pages.addAll(o.getPagesList());
                futexes += o.getFutexesCount();
            }
        }
        assertThat(sent).allSatisfy(m -> assertThat(m.getSerializedSize()).isLessThanOrEqualTo(PAGE + 1024));
        assertThat(pages).extracting(ReclaimedPage::getOffset).containsExactly(0L, (long) PAGE, 2L * PAGE, 3L * PAGE);
        assertThat(pages).extracting(p -> p.getData().isEmpty() ? 0 : (int) p.getData().byteAt(0))
                .as("the three unconfirmed returns").containsExactly(0, 42, 2, 3);
        assertThat(futexes).isEqualTo(1);
    }

    /**
     * The reviewer's p26 account (1,100 unconfirmed returns of 4 KiB, 4.5 MB, plus a futex) at the
     * real bound: two messages, each under 3.5 MiB (the pager's transport takes 4 MiB), every entry
     * once and in order.
     */
    @Test
    void aReclaimOfFourAndAHalfMegabytesGoesInTwoPartsUnderTheTransportsLimit() {
        ReclaimedObject.Builder o = ReclaimedObject.newBuilder().setObjectId(1).setName("obj").setPageSize(PAGE)
                .addFutexes(io.machxp.proto.xp.ReclaimedFutex.newBuilder().setOffset(0).setFencingToken(7));
        for (int i = 0; i < 1100; i++) {
            o.addPages(ReclaimedPage.newBuilder().setOffset((long) i * PAGE).setAccess(VmProt.VM_PROT_NONE).setVersion(1)
                    .setData(com.google.protobuf.ByteString.copyFrom(new byte[PAGE])));
        }
        KernelToPager hello = KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello.newBuilder()
                .setKernelName("A").setProtocolVersion(1).setReclaim(io.machxp.proto.xp.Reclaim.newBuilder()
                        .setKernelId(5).addObjects(o))).build();
        assertThat(hello.getSerializedSize()).isGreaterThan(4 << 20);
        java.util.List<KernelToPager> parts = ReclaimBound.split(hello, ReclaimBound.PART_BYTES);
        assertThat(parts).hasSize(2);
        assertThat(parts).allSatisfy(m -> assertThat(m.getSerializedSize()).isLessThanOrEqualTo(ReclaimBound.PART_BYTES));
        assertThat(parts.get(0).getKernelHello().getReclaim().getContinues()).isTrue();
        assertThat(parts.get(0).getKernelHello().getReclaim().getKernelId()).isEqualTo(5);
        assertThat(parts.get(1).getMemoryObjectReclaimContinue().getContinues()).isFalse();
        java.util.List<Long> offsets = new java.util.ArrayList<>();
        parts.get(0).getKernelHello().getReclaim().getObjects(0).getPagesList().forEach(p -> offsets.add(p.getOffset()));
        parts.get(1).getMemoryObjectReclaimContinue().getObjects(0).getPagesList().forEach(p -> offsets.add(p.getOffset()));
        assertThat(offsets).hasSize(1100).isSorted().doesNotHaveDuplicates();
        assertThat(parts.get(0).getKernelHello().getReclaim().getObjects(0).getFutexesCount()
                + parts.get(1).getMemoryObjectReclaimContinue().getObjects(0).getFutexesCount()).isEqualTo(1);
        assertThat(ReclaimBound.split(KernelToPager.newBuilder().setKernelHello(hello.getKernelHello().toBuilder()
                .setReclaim(hello.getKernelHello().getReclaim().toBuilder().clearObjects())).build(),
                ReclaimBound.PART_BYTES)).as("a small reclaim: one message").hasSize(1);
    }

    /**
     * Review F1: to a pager that takes parts, an account over one message only because of pages held
     * read-only goes in one message, those pages dropped, as before parts existed: an older pager
     * (a rollback) could take it. Before, the kernel fitted to 60 MiB and went in parts.
     */
    @Test
    void anAccountLargeOnlyByReadOnlyPagesGoesInOneMessageEvenToAPagerThatTakesParts() {
        holdsAFutexAReturnAndReadOnlyPages();
        k.core.sessions.primary().pagerTakesReclaimParts = true;
        k.core.sessions.primary().reclaim.maxPartBytes = PAGE + 176; // the whole account is some 4,290 bytes (boot_nonce and attempt: 11 of them; the hello's features relinquish_hint, end_info, directory_disputes and stale_heir_tid: 17, 10, 20 and 16)
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        java.util.List<KernelToPager> sent = k.env.drain();
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).getKernelHello().getReclaim().getContinues()).isFalse();
        ReclaimedObject o = sent.get(0).getKernelHello().getReclaim().getObjects(0);
        assertThat(o.getFutexesList()).hasSize(1);
        assertThat(o.getPagesList()).extracting(ReclaimedPage::getOffset).containsExactly(0L, (long) PAGE);
        assertThat(k.core.objects.object(CoreFixture.OBJECT_ID).page(2L * PAGE).resident()).isFalse();
    }

    /** The account of futex 0, page 0 writable and three unconfirmed returns, sent in parts after a break. */
    private java.util.List<KernelToPager> aReclaimInParts() {
        return aReclaimInParts(ReclaimBound.MAX_BYTES);
    }

    /** As {@link #aReclaimInParts()}, the kernel's own bound of a whole reclaim {@code maxReclaimBytes}. */
    private java.util.List<KernelToPager> aReclaimInParts(int maxReclaimBytes) {
        holdsAFutexAReturnAndReadOnlyPages();
        k.core.sessions.primary().reclaim.maxReclaimBytes = maxReclaimBytes;
        for (int i = 2; i < 4; i++) {
            k.write(k.base + (long) i * PAGE, new byte[] {(byte) i});
            k.env.drain();
            k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectLockRequest(io.machxp.proto.xp.MemoryObjectLockRequest
                    .newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset((long) i * PAGE).setLength(PAGE)
                    .setLockValue(VmProt.VM_PROT_NONE)).build());
            k.lockRequest((long) i * PAGE, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
            k.env.drain();
        }
        k.core.sessions.primary().pagerTakesReclaimParts = true;
        k.core.sessions.primary().reclaim.maxPartBytes = PAGE + 1024;
        k.core.xp().onStreamBroken(0, "connection reset");
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        java.util.List<KernelToPager> sent = k.env.drain();
        assertThat(sent.size()).isGreaterThan(1);
        assertThat(sent.get(0).getKernelHello().getProtocolVersion()).as("the gate: a hello announcing parts is "
                + "version 2 (xp-spec 2.3)").isEqualTo(2);
        return sent;
    }

    /**
     * The version gate (xp-spec 2.3): a pager that does not take parts (an older one after a
     * rollback) refuses the version-2 hello of a reclaim in parts with EPROTONOSUPPORT before it
     * records anything; the kernel reclaims again at once, in one message of version 1, its lease
     * still running. Before, every refusal by the pager stopped the kernel.
     */
    @Test
    void aReclaimInPartsRefusedByTheVersionGateIsSentAgainInOneMessage() {
        aReclaimInParts();
        assertThat(k.core.xp().onReclaimRefused(0, "EPROTONOSUPPORT", false, "speaks version 1 only")).isTrue();
        k.env.advance(0);
        KernelToPager again = k.single();
        assertThat(again.getKernelHello().getProtocolVersion()).isEqualTo(1);
        assertThat(again.getKernelHello().getReclaim().getContinues()).isFalse();
        assertThat(k.core.sessions.primary().pagerLost()).isFalse();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(PAGE).setLeaseMillis(LEASE_MS).setSessionEpoch(6)).build());
        assertThat(k.core.sessions.primary().pagerLost()).as("an older pager's welcome to one message").isFalse();
        assertThat(k.core.sessions.primary().reclaim.disconnected()).isFalse();
    }

    /**
     * Any other refusal of a reclaim in parts is final, as of any reclaim (xp-spec 9.7); an EAGAIN
     * the pager does not mark final is not a refusal (9.4, Again): the kernel reclaims again while
     * its lease runs.
     */
    @Test
    void aReclaimInPartsRefusedOtherwiseIsNotSentAgain() {
        aReclaimInParts();
        assertThat(k.core.xp().onReclaimRefused(0, "ESTALE", false, "grace over")).isFalse();
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", false, "the reclaims other kernels are sending in "
                + "parts already fill the 256 MiB it buffers for reclaims at once")).isTrue();
    }

    /**
     * Review F4 of f9: a reclaim in parts over the kernel's own bound of a whole reclaim (it sends
     * it anyway) told EAGAIN stops when the pager marks that EAGAIN final (xp-spec 9.7, as machxp's
     * pager does over its bound of one, 64 MiB or 256 parts), and only then: unmarked (another
     * pager's, which may pass), it is sent again after L/20. On f9 before this change the kernel took
     * every EAGAIN over its own bound as final, whatever the pager said.
     */
    @Test
    void aReclaimOverTheKernelsOwnBoundToldEagainStopsOnlyWhenThePagerMarksItFinal() {
        java.util.List<KernelToPager> sent = aReclaimInParts(2 * PAGE);
        int size = sent.stream().mapToInt(KernelToPager::getSerializedSize).sum();
        assertThat(size).as("over the kernel's own bound: sent anyway").isGreaterThan(2 * PAGE);
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", false, "busy")).as("unmarked: sent again").isTrue();
        int before = k.env.reconnects;
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 1);
        assertThat(k.env.drain().size()).as("in parts again").isGreaterThan(1);
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", true, "more than 256 parts")).as("marked final").isFalse();
        k.core.xp().onPagerLost(0, "more than 256 parts"); // what PagerLink does then
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        assertThat(k.env.reconnects).as("not sent again").isEqualTo(before + 1);
    }

    /**
     * Review F3 of f9: after the version gate refused a reclaim in parts (the pager recorded
     * nothing), the reclaim again in one message told an EAGAIN the pager marks final (a TID prefix
     * still held for a dead kernel, xp-spec 2.9) stops at once. On f9 before this change it was the
     * session's second reclaim, so the kernel sent it again every L/20 until its lease ran out.
     */
    @Test
    void aFinalEagainAfterTheVersionGateStops() {
        aReclaimInParts();
        assertThat(k.core.xp().onReclaimRefused(0, "EPROTONOSUPPORT", false, "speaks version 1 only")).isTrue();
        k.env.advance(0);
        assertThat(k.single().getKernelHello().getProtocolVersion()).isEqualTo(1);
        int before = k.env.reconnects;
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", true, "cannot use TID prefix 1 yet")).isFalse();
        k.core.xp().onPagerLost(0, "cannot use TID prefix 1 yet");
        k.env.advance(LEASE_MS * 1_000_000 / 20);
        assertThat(k.env.reconnects).as("not sent again").isEqualTo(before);
    }

    /**
     * Review F1: a welcome without reclaim_in_parts answering a reclaim in parts came from a pager
     * that took the hello alone (an older one): the kernel stops rather than keep using what the
     * other parts named. Before, it took the welcome and went on.
     */
    @Test
    void aWelcomeWithoutReclaimInPartsToAReclaimInPartsStopsTheKernel() {
        aReclaimInParts();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(PAGE).setLeaseMillis(LEASE_MS).setSessionEpoch(6)).build());
        assertThat(k.core.sessions.primary().pagerLost()).isTrue();
    }

    @Test
    void aWelcomeWithReclaimInPartsToAReclaimInPartsGoesOn() {
        aReclaimInParts();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(PAGE).setLeaseMillis(LEASE_MS).setSessionEpoch(6).setReclaimInParts(true)).build());
        assertThat(k.core.sessions.primary().pagerLost()).isFalse();
        assertThat(k.core.sessions.primary().reclaim.disconnected()).isFalse();
    }
}
