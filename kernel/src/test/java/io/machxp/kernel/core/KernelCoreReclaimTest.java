package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A kernel whose stream breaks while its lease runs keeps what it holds, reconnects and reclaims
 * it (futexes with their tokens, pages with their access, dirty returns the pager has not
 * confirmed), then asks again for what it was waiting for; its lease running out first stops it.
 */
class KernelCoreReclaimTest {
    private static final long LEASE_MS = 1000;
    private static final long LEASE = LEASE_MS * 1_000_000;
    private static final int PAGE = CoreFixture.PAGE;
    private static final long TOKEN = 5L << 32 | 3;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);

    private static byte[] page(int fill) {
        byte[] p = new byte[PAGE];
        Arrays.fill(p, (byte) fill);
        return p;
    }

    /** t holds the futex at offset 0 (token TOKEN, page 0 writable here). */
    private MachThread holder() {
        MachThread t = k.thread();
        Answer<AcquirePath> a = k.lock(t, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setFencingToken(TOKEN)).build());
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.zeroFill(0);
        assertThat(a.value()).isEqualTo(AcquirePath.PAGER_GRANT);
        return t;
    }

    /** A thread waits for the futex at offset 8, which the kernel has asked the pager for. */
    private Answer<AcquirePath> waiterAt8() {
        Answer<AcquirePath> waiting = k.lock(k.thread(), k.base + 8);
        assertThat(k.single().getMemoryObjectLockFutex().getOffset()).isEqualTo(8);
        return waiting;
    }

    /** Page 1 written here, then given back dirty on the pager's request (kept read-only): version 1. */
    private void returnedDirtyPage1() {
        Answer<Void> w = k.write(k.base + PAGE, new byte[] {42});
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(PAGE);
        k.zeroFill(PAGE);
        assertThat(w.answered()).isTrue();
        k.lockRequest(PAGE, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent.get(0).getMemoryObjectDataReturn().getVersion()).isEqualTo(1);
        assertThat(sent.get(1).hasMemoryObjectLockCompleted()).isTrue();
    }

    /** The stream breaks and a twentieth of the lease later the kernel reconnects: its reclaim. */
    private ReclaimedObject breakAndReconnect() {
        k.core.xp().onStreamBroken(0, "connection reset");
        assertThat(k.core.xp().disconnected()).isTrue();
        int before = k.env.reconnects;
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 1);
        KernelToPager hello = k.single();
        var reclaim = hello.getKernelHello().getReclaim();
        assertThat(reclaim.getKernelId()).isEqualTo(1);
        assertThat(reclaim.getObjectsList()).hasSize(1);
        return reclaim.getObjects(0);
    }

    /**
     * A pager answers a fault from the copy it holds in memory before its store has written it
     * (the keepalive's answer is what waits for the disk, xp-spec 4.2): a page the kernel gave back
     * dirty and read again at the same version may not be on disk yet. The kernel keeps the data
     * until a keepalive sent after the return is answered, so a pager that restarts meanwhile gets it
     * again in the reclaim. Before, the supply at the same version dropped it: the restarted pager
     * had the older page and the kernel reclaimed a read-only copy newer than the store without its
     * data, and a kernel that had let the page go had nothing to give.
     */
    @Test
    void aReturnSuppliedBackAtItsVersionIsKeptUntilAKeepaliveConfirmsIt() {
        returnedDirtyPage1();
        k.lockRequest(PAGE, ReturnPolicy.RETURN_NONE, true, VmProt.VM_PROT_NONE, false); // flushed here
        Answer<byte[]> r = k.read(k.base + PAGE, 1);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(PAGE);
        byte[] data = page(0);
        data[0] = 42;
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(io.machxp.proto.xp.MemoryObjectDataSupply
                .newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset(PAGE)
                .setData(com.google.protobuf.ByteString.copyFrom(data)).setLockValue(VmProt.VM_PROT_WRITE)
                .setVersion(1)).build());
        assertThat(r.value()[0]).isEqualTo((byte) 42);

        ReclaimedObject o = breakAndReconnect();
        assertThat(o.getPagesList()).filteredOn(p -> p.getOffset() == PAGE).singleElement().satisfies(p -> {
            assertThat(p.getVersion()).isEqualTo(1);
            assertThat(p.getAccess()).isEqualTo(VmProt.VM_PROT_READ);
            assertThat(p.getData().isEmpty()).as("the return, not yet confirmed, given again").isFalse();
            assertThat(p.getData().byteAt(0)).isEqualTo((byte) 42);
        });
    }

    /** A supply of a newer version says the pager took the return (another kernel's write came after it). */
    @Test
    void aSupplyOfANewerVersionDropsTheKeptReturn() {
        returnedDirtyPage1();
        k.lockRequest(PAGE, ReturnPolicy.RETURN_NONE, true, VmProt.VM_PROT_NONE, false);
        k.read(k.base + PAGE, 1);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(PAGE);
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(io.machxp.proto.xp.MemoryObjectDataSupply
                .newBuilder().setObjectId(CoreFixture.OBJECT_ID).setOffset(PAGE)
                .setData(com.google.protobuf.ByteString.copyFrom(page(7))).setLockValue(VmProt.VM_PROT_WRITE)
                .setVersion(2)).build());
        ReclaimedObject o = breakAndReconnect();
        assertThat(o.getPagesList()).filteredOn(p -> p.getOffset() == PAGE).singleElement().satisfies(p -> {
            assertThat(p.getVersion()).isEqualTo(2);
            assertThat(p.getData().isEmpty()).isTrue();
        });
    }

    /** A lease of an hour: the kernel tries again a second after its stream broke, not three minutes. */
    @Test
    void aKernelWithALongLeaseReconnectsWithinASecond() {
        CoreFixture hour = new CoreFixture(CoreOptions.DEFAULT, 3_600_000);
        hour.core.xp().onStreamBroken(0, "connection reset");
        hour.env.drain();
        int before = hour.env.reconnects;
        hour.env.advance(KernelSession.MAX_RETRY_NANOS);
        assertThat(hour.env.reconnects).isEqualTo(before + 1);
        assertThat(hour.single().getKernelHello().hasReclaim()).isTrue();
    }

    private void welcome() {
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(PAGE).setLeaseMillis(LEASE_MS).setSessionEpoch(6)).build());
    }

    @Test
    void theKernelKeepsUsingWhatItHoldsAndReclaimsItWithTokensVersionsAndUnconfirmedData() {
        MachThread t = holder();
        returnedDirtyPage1();
        Answer<AcquirePath> waiting = waiterAt8();

        k.core.xp().onStreamBroken(0, "connection reset");
        // Still its own while the lease runs: the owner unlocks and locks again without a message.
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        assertThat(k.lock(t, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.env.drain()).isEmpty();

        int before = k.env.reconnects;
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 1);
        ReclaimedObject o = k.single().getKernelHello().getReclaim().getObjects(0);
        assertThat(o.getName()).isEqualTo("obj");
        assertThat(o.getFutexesList()).singleElement().satisfies(f -> {
            assertThat(f.getOffset()).isZero();
            assertThat(f.getFencingToken()).isEqualTo(TOKEN);
        });
        assertThat(o.getPagesList()).extracting(ReclaimedPage::getOffset, ReclaimedPage::getAccess,
                ReclaimedPage::getVersion).containsExactly(
                        org.assertj.core.groups.Tuple.tuple(0L, VmProt.VM_PROT_READ_WRITE, 0L),
                        org.assertj.core.groups.Tuple.tuple((long) PAGE, VmProt.VM_PROT_READ, 1L));
        assertThat(o.getPages(1).getData().byteAt(0)).as("the return not yet confirmed").isEqualTo((byte) 42);
        assertThat(waiting.answered()).as("a waiter keeps waiting").isFalse();

        welcome();
        List<KernelToPager> after = k.env.drain();
        assertThat(after).extracting(KernelToPager::getRoutineCase).containsExactly(
                KernelToPager.RoutineCase.KERNEL_KEEPALIVE, KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_FUTEX);
        assertThat(after.get(1).getMemoryObjectLockFutex().getOffset()).as("asked again").isEqualTo(8);
        assertThat(k.core.xp().disconnected()).isFalse();

        // The keepalive's answer confirms the reclaimed data: a later reclaim no longer carries it.
        k.env.sent.addAll(after.subList(0, 1));
        k.answerKeepalives();
        ReclaimedObject again = breakAndReconnect();
        assertThat(again.getPagesList()).allSatisfy(p -> assertThat(p.getData().isEmpty()).isTrue());
    }

    @Test
    void aRelinquishTheOldPagerAskedForIsVoidSoTheOwnersUnlockKeepsTheFutex() {
        MachThread t = holder();
        k.relinquish(0);
        k.core.xp().onStreamBroken(0, "connection reset");
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        assertThat(k.env.drain()).as("nothing released into a broken stream").isEmpty();
        assertThat(breakAndReconnect().getFutexesList()).hasSize(1);
    }

    @Test
    void theLeaseRunningOutWhileDisconnectedStopsTheKernelAndFailsItsWaiters() {
        holder();
        Answer<AcquirePath> waiting = waiterAt8();
        k.core.xp().onStreamBroken(0, "connection reset");
        for (int i = 0; i < 19; i++) { // every attempt is refused: no pager listens
            k.env.advance(LEASE / 20);
            k.env.drain();
            k.core.xp().onStreamBroken(0, "connection refused");
        }
        k.env.advance(LEASE);
        assertThat(waiting.error().errno()).isEqualTo(Errno.EIO);
        assertThat(waiting.error().message()).contains("lease ran out").contains("could not reconnect");
        int attempts = k.env.reconnects;
        k.env.advance(LEASE);
        assertThat(k.env.reconnects).as("no attempts once stopped").isEqualTo(attempts);
        assertThat(k.core.xp().disconnected()).isFalse();
    }

    @Test
    void aShorterLeaseFromTheRestartedPagerCountsFromTheReclaim() {
        holder();
        Answer<AcquirePath> waiting = waiterAt8();
        breakAndReconnect();
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(PAGE).setLeaseMillis(LEASE_MS / 10)).build()); // a tenth of the old lease
        k.env.drain();                     // its keepalive is never answered
        k.env.advance(LEASE / 10);
        assertThat(waiting.error().message()).as("the old pager's lease no longer counts").contains("lease ran out");
    }

    /**
     * A reclaim the pager welcomes just before the kernel's old lease ends runs the lease from the
     * reclaim's send, as a keepalive answered does. On the old code the lease kept the old end and
     * waited for the keepalive sent after the welcome: its answer a round trip later (a loaded host)
     * came after that end, and the kernel ended the session the pager had just taken (the waiter's
     * EIO; what it held went on with OWNER_DIED at the pager a lease later, PagerProcessRestartTest's
     * flake under load).
     */
    @Test
    void aReclaimWelcomedJustBeforeTheOldLeaseEndsKeepsTheSession() {
        MachThread t = holder();
        Answer<AcquirePath> waiting = waiterAt8();
        k.core.xp().onStreamBroken(0, "connection reset");
        for (int i = 0; i < 14; i++) { // no pager listens for 0.7 of the lease
            k.env.advance(LEASE / 20);
            k.env.drain();
            k.core.xp().onStreamBroken(0, "connection refused");
        }
        k.env.advance(LEASE / 20); // the restarted pager listens: the reclaim goes, 0.75 L after the start
        assertThat(k.single().getKernelHello().hasReclaim()).isTrue();
        k.env.advance(LEASE / 20 - 1_000_000); // its welcome comes 1 ms before the old lease's end (0.8 L)
        welcome();
        assertThat(k.env.drain()).extracting(KernelToPager::getRoutineCase).containsExactly(
                KernelToPager.RoutineCase.KERNEL_KEEPALIVE, KernelToPager.RoutineCase.MEMORY_OBJECT_LOCK_FUTEX);

        k.env.advance(LEASE / 50); // the keepalive's answer not here yet, 19 ms after the old end
        assertThat(waiting.answered()).as("the waiter still waits for the pager's grant").isFalse();
        assertThat(k.unlock(t, k.base).answered()).as("the owner still holds the futex").isTrue();
        assertThat(k.lock(t, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        k.env.advance(LEASE * 7 / 10); // the new lease runs 0.8 L from the reclaim's send (0.75 L): to 1.55 L
        assertThat(waiting.answered()).as("1.52 L after the start").isFalse();
        k.env.advance(LEASE / 5);
        assertThat(waiting.error().message()).as("its keepalives unanswered, the new lease ends")
                .contains("lease ran out");
    }

    /**
     * Review indep-2 N2: a reclaim whose stream breaks before the welcome (it may have been sent and
     * lost), or that the pager ends with EAGAIN (it has not seen the earlier stream end yet), is
     * sent again on a new stream with the account as it is then; the welcome that answers it goes
     * on as any. On the old code EAGAIN stopped the kernel.
     */
    @Test
    void aReclaimWhoseWelcomeIsLostOrThatGetsEagainIsSentAgain() {
        MachThread t = holder();
        breakAndReconnect();
        k.core.xp().onStreamBroken(0, "stream cancelled before the welcome");
        assertThat(k.unlock(t, k.base).answered()).as("still its own while its lease runs").isTrue();
        int before = k.env.reconnects;
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 1);
        assertThat(k.single().getKernelHello().getReclaim().getObjects(0).getFutexesList())
                .as("the account as it is now: the futex was unlocked, cached here").hasSize(1);
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", false, "its earlier reclaim's stream is still open"))
                .as("not a refusal: reclaimed again").isTrue();
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 2);
        assertThat(k.single().getKernelHello().hasReclaim()).isTrue();
        welcome();
        assertThat(k.core.xp().disconnected()).isFalse();
        assertThat(k.lock(t, k.base).value()).as("the futex stayed this kernel's").isEqualTo(AcquirePath.FAST_PATH);
    }

    /**
     * Review F9 of reclaim-retry, F1 of f9: a reclaim that the pager ends with an EAGAIN it marks
     * final for its grace period (xp-spec 9.7: a TID prefix still held for a dead kernel, which
     * nothing granted in grace clears) is a refusal, and the kernel stops its session with that
     * pager as PagerLink then has it (its waiters fail with the pager's word). On main the kernel
     * sent its whole account again every L/20 until its lease ran out.
     */
    @Test
    void aReclaimToldEagainMarkedFinalIsNotSentAgain() {
        holder();
        Answer<AcquirePath> waiting = waiterAt8();
        breakAndReconnect();
        int before = k.env.reconnects;
        String why = "EAGAIN: kernel 'k' cannot use TID prefix 1 at pager p yet";
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", true, why)).as("final").isFalse();
        k.core.xp().onPagerLost(0, why); // what PagerLink does with a refusal that is not sent again
        assertThat(waiting.error().errno()).isEqualTo(Errno.EIO);
        assertThat(waiting.error().message()).contains("cannot use TID prefix 1");
        assertThat(k.core.xp().disconnected()).isFalse();
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).as("not reclaimed again").isEqualTo(before);
    }

    /**
     * Review F1 of f9: a first reclaim of the session in one message that the pager ends with an
     * EAGAIN it does not mark final (another pager's, or an older one's, for a cause a wait may
     * change: load, a rate bound) is sent again after L/20, and the kernel keeps what it holds. On
     * f9 before this change the kernel took it as final and stopped, losing its futexes and dirty
     * pages (aFirstReclaimInOneMessageToldEagainIsNotSentAgain asserted that, and passed).
     */
    @Test
    void aFirstReclaimInOneMessageToldEagainNotMarkedFinalIsSentAgain() {
        MachThread t = holder();
        breakAndReconnect();
        int before = k.env.reconnects;
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", false, "too many kernels reclaim at once; retry"))
                .as("unmarked: a wait may change it").isTrue();
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 1);
        assertThat(k.single().getKernelHello().getReclaim().getObjects(0).getFutexesList()).hasSize(1);
        welcome();
        assertThat(k.core.xp().disconnected()).isFalse();
        assertThat(k.unlock(t, k.base).answered()).isTrue();
    }

    /**
     * Review F1 of leftovers2: a kernel whose reclaim was welcomed in the pager's grace period, and
     * whose stream then breaks while that grace still runs, is told EAGAIN until the pager sees
     * that stream end (its session there is still live), which a wait changes: it reclaims again,
     * although this is its first reclaim since the stream last broke. On 42b6208f, which counted
     * reclaims since the stream broke, the kernel took that EAGAIN as final and stopped.
     */
    @Test
    void aReclaimAfterAWelcomedOneToldEagainIsSentAgain() {
        MachThread t = holder();
        breakAndReconnect();
        welcome();
        k.env.drain();
        assertThat(k.core.xp().disconnected()).isFalse();
        breakAndReconnect(); // the welcomed session's stream breaks in grace: a reclaim again
        assertThat(k.core.xp().onReclaimRefused(0, "EAGAIN", false, "its earlier reclaim's stream is still open at the pager"))
                .as("not final: the pager has not seen the welcomed session's stream end yet").isTrue();
        int before = k.env.reconnects;
        k.env.advance(LEASE / 20);
        assertThat(k.env.reconnects).isEqualTo(before + 1);
        assertThat(k.single().getKernelHello().getReclaim().getObjects(0).getFutexesList()).hasSize(1);
        welcome();
        assertThat(k.core.xp().disconnected()).isFalse();
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        assertThat(k.lock(t, k.base).value()).as("the futex stayed this kernel's").isEqualTo(AcquirePath.FAST_PATH);
    }

    @Test
    void aPagerThatRefusesTheReclaimStopsTheKernel() {
        holder();
        breakAndReconnect();
        k.core.xp().onPagerLost(0, "ESTALE: the pager's grace period is over");
        Answer<MachThread> a = new Answer<>();
        k.core.threadCreate(k.task.id, a);
        assertThat(a.error().errno()).isEqualTo(Errno.EIO);
        assertThat(a.error().message()).contains("grace period is over");
        assertThat(k.core.xp().disconnected()).isFalse();
    }
}
