package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A kernel whose reclaim the pager took loses the stream, perhaps before it read the welcome, and
 * reclaims again (xp-spec 9.4, "Again"): in the same grace period the new reclaim replaces the
 * broken session, as the kernel's complete account, under the same id.
 */
class ReclaimAgainTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int PAGE = XpKernels.PAGE;
    private static final long OLD_TOKEN = 3L << 32 | 17;
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4).withGrace(LEASE));

    private static ReclaimedPage held(long offset, VmProt access) {
        return ReclaimedPage.newBuilder().setOffset(offset).setAccess(access).setVersion(0).build();
    }

    private static ReclaimedFutex futex(long offset) {
        return ReclaimedFutex.newBuilder().setOffset(offset).setFencingToken(OLD_TOKEN).build();
    }

    /** Kernel A's boot_nonce; its reclaims' attempts count from 1 (xp-spec 9.4, Again). */
    private static final long BOOT = 0x5eed_0001L;
    private long attempts;

    private void reclaim(long session, int id, List<ReclaimedFutex> futexes, ReclaimedPage... pages) {
        reclaim(session, id, BOOT, ++attempts, futexes, pages);
    }

    private void reclaim(long session, int id, long boot, long attempt, List<ReclaimedFutex> futexes,
            ReclaimedPage... pages) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)
                .setReclaim(Reclaim.newBuilder().setKernelId(id).setBootNonce(boot).setAttempt(attempt)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(PAGE).addAllFutexes(futexes).addAllPages(Arrays.asList(pages))))));
    }

    private static List<PagerToKernel> of(List<PagerToKernel> got, PagerToKernel.RoutineCase routine) {
        return got.stream().filter(m -> m.getRoutineCase() == routine).toList();
    }

    /**
     * Taken again: the same id, a fresh session; the futex the new account no longer names is
     * released (its next owner is not told OWNER_DIED), the one it names stays the kernel's, and so
     * does its page. On the old code the retry was refused with EEXIST and the kernel had to stop.
     */
    @Test
    void aReclaimWhoseStreamBrokeIsTakenAgainAsTheCompleteAccount() {
        reclaim(1, 5, List.of(futex(0), futex(2 * PAGE)), held(0, VmProt.VM_PROT_READ_WRITE),
                held(PAGE, VmProt.VM_PROT_READ_WRITE));
        assertThat(x.one(1).getPagerWelcome().getKernelId()).isEqualTo(5);
        x.pager.sessionClosed(1); // the welcome is lost with the stream: broken, A keeps what it holds
        x.advance(LEASE / 4);
        reclaim(2, 5, List.of(futex(0)), held(0, VmProt.VM_PROT_READ_WRITE)); // 2*PAGE and PAGE given back since
        assertThat(x.ended).as("the reclaim again is taken").doesNotContainKey(2L);
        var welcome = x.one(2).getPagerWelcome();
        assertThat(welcome.getKernelId()).as("the id its TIDs carry").isEqualTo(5);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(x.pager.holderOf("obj", 2 * PAGE)).as("not named again: released").isNull();
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("A");
        assertThat(x.pager.pageWriter("obj", PAGE)).as("not named again: dropped").isNull();
        assertThat(x.stats.kernelsReclaimed()).as("one kernel").isEqualTo(1);
        assertThat(x.stats.reclaimsTakenAgain()).isEqualTo(1);
        assertThat(x.stats.futexesReclaimed()).as("futex 0 once, 2*PAGE at the first reclaim").isEqualTo(2);

        // Grace ends with A alive on its new stream; B gets the released futex without OWNER_DIED,
        // and A, which holds futex 0, is asked to give it back.
        for (int i = 0; i < 3; i++) {
            x.advance(LEASE / 4);
            x.keepalive(2, 100 + i);
            x.take(2);
        }
        x.advance(LEASE / 4);
        x.keepalive(2, 200);
        x.take(2);
        assertThat(x.pager.inGrace()).isFalse();
        long b = x.kernel(3, "B");
        x.take(b);
        x.lockFutex(b, 2 * PAGE);
        var granted = of(x.take(b), PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(granted).hasSize(1);
        assertThat(granted.get(0).getMemoryObjectFutexGranted().getOwnerDied()).as("A gave it back").isFalse();
        x.lockFutex(b, 0);
        assertThat(of(x.take(2), PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX)).as("A holds it").hasSize(1);
        assertThat(x.ended).doesNotContainKey(2L);
    }

    /** The pager has not seen the first stream end: EAGAIN (the kernel tries again), nothing changes. */
    @Test
    void aReclaimWhileTheFirstStreamIsStillOpenIsToldToTryAgain() {
        reclaim(1, 5, List.of(futex(0)));
        x.take(1);
        reclaim(2, 5, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("EAGAIN");
        assertThat(x.ended).doesNotContainKey(1L);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** Another id: refused before the welcome (EINVAL); the broken session stays as it was. */
    @Test
    void aReclaimAgainUnderAnotherIdIsRefusedAndTheOldSessionStays() {
        reclaim(1, 5, List.of(futex(0)));
        x.take(1);
        x.pager.sessionClosed(1);
        reclaim(2, 6, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("EINVAL").contains("kernel id 6");
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** After grace there is nothing to reclaim again: ESTALE (the kernel stops, xp-spec 9.7). */
    @Test
    void aReclaimAgainAfterGraceIsStale() {
        reclaim(1, 5, List.of(futex(0)));
        x.take(1);
        x.advance(LEASE / 2);
        x.keepalive(1, 1);
        x.take(1);
        x.pager.sessionClosed(1);
        x.advance(LEASE / 2);
        assertThat(x.pager.inGrace()).isFalse();
        reclaim(2, 5, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("ESTALE");
    }

    private static ReclaimedPage held(long offset, long version) {
        return ReclaimedPage.newBuilder().setOffset(offset).setAccess(VmProt.VM_PROT_READ_WRITE).setVersion(version)
                .build();
    }

    /**
     * Review of reclaim-retry, F1: attempt 1 is delayed in the network and the kernel abandons it;
     * attempt 2 is taken and its welcome read; the kernel writes the page back (msync: version 1
     * stored, the page stays writable); stream 2 breaks; then attempt 1 arrives, naming the page at
     * version 0. It is refused (ESTALE) and the session stays A's with the page writable, so after
     * grace B's write makes the pager ask A for the page rather than serve B at once. On the code
     * without the order (plant {@code reclaimAttemptNewer}: always newer) attempt 1 was welcomed,
     * refused the page as older than the pager's copy and dropped it from A's account, and B got
     * the page writable while A still wrote it.
     */
    @Test
    void aLateEarlierAttemptIsRefusedAndTheNewerSessionKeepsItsPage() {
        reclaim(1, 5, BOOT, 2, List.of(), held(0, 0));
        assertThat(x.one(1).hasPagerWelcome()).isTrue();
        x.advance(LEASE / 2); // A's lease, renewed now, runs past the grace period
        x.returnDirty(1, 0, XpKernels.page(7), true);
        x.keepalive(1, 1);
        x.take(1);
        x.pager.sessionClosed(1);
        reclaim(2, 5, BOOT, 1, List.of(), held(0, 0)); // the late earlier attempt
        assertThat(x.ended.get(2L)).startsWith("ESTALE").contains("attempt 1 is not newer than attempt 2");
        assertThat(x.pager.pageWriter("obj", 0)).as("still A's").isEqualTo("A");
        x.advance(LEASE / 2 + LEASE / 10); // grace ends before A's next attempt gets in; A's lease runs on
        assertThat(x.pager.inGrace()).isFalse();
        assertThat(x.ended).as("A's lease runs").doesNotContainKey(1L);
        long b = x.kernel(3, "B");
        x.take(b);
        x.write(b, 0);
        assertThat(of(x.take(b), PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_SUPPLY))
                .as("B waits for A's page, which A may still write").isEmpty();
    }

    /**
     * Review 2 of reclaim-retry, R2-2: attempt is a uint64, compared unsigned. Attempt 2^63 after
     * attempt 1 is newer and taken; attempt 1 after attempt 2^64-1 is older and refused (ESTALE).
     * With a signed comparison both went the other way (2^63 read as negative).
     */
    @Test
    void attemptsAreComparedUnsigned() {
        reclaim(1, 5, BOOT, 1, List.of(futex(0)));
        x.take(1);
        x.pager.sessionClosed(1);
        reclaim(2, 5, BOOT, Long.MIN_VALUE, List.of(futex(0))); // 2^63
        assertThat(x.ended).as("2^63 is newer than 1").doesNotContainKey(2L);
        assertThat(x.one(2).hasPagerWelcome()).isTrue();
        reclaim(3, 5, BOOT, -1L, List.of(futex(0))); // 2^64-1, while 2^63's stream is still open
        assertThat(x.ended.get(3L)).startsWith("EAGAIN");
        x.pager.sessionClosed(2);
        reclaim(4, 5, BOOT, -1L, List.of(futex(0)));
        assertThat(x.ended).doesNotContainKey(4L);
        x.take(4);
        x.pager.sessionClosed(4);
        reclaim(5, 5, BOOT, 1, List.of()); // a late attempt 1
        assertThat(x.ended.get(5L)).startsWith("ESTALE")
                .contains("attempt 1 is not newer than attempt 18446744073709551615");
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** Another boot of the kernel (another boot_nonce): EINVAL; the broken session stays as it was. */
    @Test
    void aReclaimAgainFromAnotherBootIsRefused() {
        reclaim(1, 5, BOOT, 1, List.of(futex(0)));
        x.take(1);
        x.pager.sessionClosed(1);
        reclaim(2, 5, BOOT + 1, 2, List.of());
        assertThat(x.ended.get(2L)).startsWith("EINVAL").contains("boot_nonce");
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** A reclaim without boot_nonce and attempt (an older kernel) is never taken again: EEXIST, as before. */
    @Test
    void aReclaimAgainWithoutAnAttemptIsRefusedAsBefore() {
        reclaim(1, 5, 0, 0, List.of(futex(0)));
        x.take(1);
        x.pager.sessionClosed(1);
        reclaim(2, 5, 0, 0, List.of());
        assertThat(x.ended.get(2L)).startsWith("EEXIST");
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
    }

    /** The first part of a reclaim in parts of kernel A, boot {@code boot}, attempt {@code attempt}. */
    private void firstPart(long session, long boot, long attempt) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(2).setReclaim(Reclaim.newBuilder().setKernelId(5).setBootNonce(boot)
                        .setAttempt(attempt).setContinues(true).addObjects(ReclaimedObject.newBuilder()
                                .setObjectId(XpKernels.OBJ).setName("obj").setPageSize(PAGE)))));
    }

    /**
     * Review of reclaim-retry, F4: while an earlier attempt's reclaim in parts is still being
     * assembled on a stream the pager has not seen end, the same boot's whole reclaim is told
     * EAGAIN (it tries again), another boot's EEXIST. Before, a whole reclaim was not checked
     * against an assembly elsewhere at all: it was welcomed, and the assembly's last part could
     * later replace it.
     */
    @Test
    void aReclaimWhileTheSameBootsPartsAreAssembledElsewhereIsToldToTryAgain() {
        firstPart(1, BOOT, 1);
        assertThat(x.ended).doesNotContainKey(1L);
        reclaim(2, 5, BOOT, 2, List.of(futex(0)));
        assertThat(x.ended.get(2L)).startsWith("EAGAIN").contains("assembled on another stream");
        reclaim(3, 5, BOOT + 1, 1, List.of(futex(0)));
        assertThat(x.ended.get(3L)).startsWith("EEXIST");
        assertThat(x.pager.holderOf("obj", 0)).isNull();
    }
}
