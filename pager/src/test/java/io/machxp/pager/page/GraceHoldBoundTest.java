package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.VmProt;
import org.junit.jupiter.api.Test;

/**
 * The messages a restarted pager holds in its grace period for kernels it does not serve yet
 * (xp-spec 9.3; review F3) are bounded in bytes: 16 MiB a session and 256 MiB in all. The session
 * whose message would pass a bound is ended with EAGAIN and a sentence, nothing of it kept; the
 * other sessions' held messages are handled when grace ends. Before, only the count (2^16 a
 * session) was bounded, so one session could have the pager hold 2^16 messages of 4 MiB.
 * The bound in all holds only kernels not yet welcomed: a kernel that reclaimed is never ended
 * because other sessions' held messages filled it (review of reclaim-left, F1: it would stop and
 * lose what its welcome acknowledged).
 */
class GraceHoldBoundTest {
    private static final long LEASE = 1_000_000_000L;
    /** A message of some 3.5 MiB that a kernel not yet welcomed sends in grace: held. */
    private static final KernelToPager BIG = KernelToPager.newBuilder().setMemoryObjectDataReturn(
            MemoryObjectDataReturn.newBuilder().setObjectId(XpKernels.OBJ).setOffset(0).setDirty(true)
                    .setData(ByteString.copyFrom(new byte[7 << 19]))).build();
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 4, 3).withGrace(LEASE));

    private void hello(long session, String name) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)));
    }

    private long heldBytes() {
        return x.pager.recordCounts().get("heldBytesInGrace");
    }

    @Test
    void aSessionWhoseHeldMessagesWouldPassSixteenMegabytesIsEndedWithEagainAndTheOthersAreServed() {
        hello(1, "quiet");
        hello(2, "flood");
        for (int i = 0; i < 4; i++) {
            x.pager.onXp(2, BIG); // 14 MiB held: within the bound
        }
        assertThat(x.ended).isEmpty();
        x.pager.onXp(2, BIG);
        assertThat(x.ended.get(2L)).startsWith("EAGAIN").contains("16 MiB").contains("grace period")
                .contains("wait for its welcome");
        assertThat(heldBytes()).as("nothing of the flooding session is kept").isLessThan(1024);
        x.advance(LEASE + 1);
        assertThat(x.pager.inGrace()).isFalse();
        assertThat(x.inbox.get(1L)).as("the quiet kernel's held hello is handled when grace ends")
                .anyMatch(PagerToKernel::hasPagerWelcome);
        assertThat(x.ended).containsOnlyKeys(2L);
    }

    @Test
    void messagesHeldForAllSessionsStayWithinTwoHundredAndFiftySixMegabytes() {
        long s = 0;
        while (x.ended.isEmpty()) {
            s++;
            hello(s, "k" + s);
            for (int i = 0; i < 4 && x.ended.isEmpty(); i++) {
                x.pager.onXp(s, BIG);
            }
            assertThat(s).isLessThan(100);
        }
        assertThat(x.ended).containsOnlyKeys(s);
        assertThat(x.ended.get(s)).startsWith("EAGAIN").contains("256 MiB").contains("connect again");
        assertThat(s).as("the bound in all, not each session's, ended it").isGreaterThan(16);
        assertThat(heldBytes()).isLessThanOrEqualTo(256L << 20).isGreaterThan(240L << 20);
        x.advance(LEASE + 1);
        assertThat(heldBytes()).isZero();
        for (long t = 1; t < s; t++) {
            assertThat(x.inbox.get(t)).as("kernel %s, within the bound, is welcomed when grace ends", t)
                    .anyMatch(PagerToKernel::hasPagerWelcome);
        }
    }

    /** Session {@code session} reclaims as {@code name} (kernel id 5), holding the futex at obj@0: welcomed. */
    private void reclaimFutex(long session, String name) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(5).addObjects(
                        ReclaimedObject.newBuilder().setObjectId(XpKernels.OBJ).setName("obj")
                                .setPageSize(XpKernels.PAGE).addFutexes(ReclaimedFutex.newBuilder().setOffset(0)
                                        .setFencingToken(3L << 32 | 1))))));
        assertThat(x.inbox.get(session)).anyMatch(PagerToKernel::hasPagerWelcome);
    }

    /** New kernels' held messages up to 2 bytes short of 256 MiB in all (sessions 2.., the last 99). */
    private void fillTheBoundInAllWithNewKernels() {
        long s = 1;
        while (heldBytes() + 4 * BIG.getSerializedSize() <= (256L << 20)) {
            s++;
            hello(s, "new" + s);
            for (int i = 0; i < 4; i++) {
                x.pager.onXp(s, BIG);
            }
        }
        hello(99, "topUp");
        int room = (int) ((256L << 20) - 2 - heldBytes());
        int overhead = KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setDirty(true).setData(ByteString.copyFrom(new byte[room])))
                .build().getSerializedSize() - room;
        x.pager.onXp(99, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setDirty(true)
                .setData(ByteString.copyFrom(new byte[room - overhead]))).build());
        assertThat(x.ended).isEmpty();
        assertThat(heldBytes()).isBetween((256L << 20) - 2 - 8, (256L << 20) - 2);
    }

    @Test
    void aReclaimedKernelsRequestsAreHeldWhenNewKernelsFilledTheBoundInAll() {
        reclaimFutex(1, "R");
        fillTheBoundInAllWithNewKernels();
        x.pager.onXp(1, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(XpKernels.PAGE).setLength(XpKernels.PAGE)
                .setDesiredAccess(VmProt.VM_PROT_READ)).build());
        x.pager.onXp(1, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(8)).build());
        assertThat(x.ended).as("the welcomed kernel is not ended for the other sessions' bytes").isEmpty();
        hello(100, "late");
        x.pager.onXp(100, BIG);
        assertThat(x.ended).as("a new kernel that would pass the bound is refused instead").containsOnlyKeys(100L);
        assertThat(x.ended.get(100L)).startsWith("EAGAIN").contains("256 MiB").contains("wait for its welcome");
        x.advance(LEASE / 2);
        x.keepalive(1, 1); // the reclaimed kernel's lease runs in grace (9.3)
        x.advance(LEASE / 2 + 1);
        assertThat(x.pager.inGrace()).isFalse();
        assertThat(x.ended).containsOnlyKeys(100L);
        assertThat(x.inbox.get(1L)).as("the reclaimed kernel's held requests are served when grace ends")
                .anyMatch(PagerToKernel::hasMemoryObjectDataUnavailable)
                .anyMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }

    @Test
    void aReclaimedKernelOverItsOwnBoundIsToldItReclaimedNotToWaitForAWelcome() {
        reclaimFutex(1, "R");
        // Only requests are held for it (its returns are taken at once, 9.3): 16 MiB of them
        // would be some 2^16 messages, so the count's bound comes first.
        for (int i = 0; i <= 1 << 16 && !x.ended.containsKey(1L); i++) {
            x.pager.onXp(1, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                    .newBuilder().setObjectId(XpKernels.OBJ).setOffset(0).setLength(XpKernels.PAGE)
                    .setDesiredAccess(VmProt.VM_PROT_READ)).build());
        }
        assertThat(x.ended.get(1L)).startsWith("EAGAIN").contains("reclaimed").contains("65536")
                .doesNotContain("wait for its welcome").doesNotContain("connect again");
    }

    /**
     * Review indep-2 N3: held hellos are bounded by count too, one per kernel id (1023): each held
     * session costs the pager far more than its hello's bytes. The next is ended with EAGAIN; a
     * held session whose stream ends makes room.
     */
    @Test
    void theHellosHeldInGraceAreBoundedByTheKernelIds() {
        for (long s = 1; s <= 1023; s++) {
            hello(s, "k" + s);
        }
        assertThat(x.ended).isEmpty();
        hello(1024, "k1024");
        assertThat(x.ended).containsOnlyKeys(1024L);
        assertThat(x.ended.get(1024L)).startsWith("EAGAIN").contains("1023 are held already")
                .contains("connect again");
        x.pager.sessionClosed(7);
        hello(1025, "k1025");
        assertThat(x.ended).containsOnlyKeys(1024L);
        x.advance(LEASE + 1);
        assertThat(x.inbox.get(1025L)).as("held within the bound, welcomed when grace ends")
                .anyMatch(PagerToKernel::hasPagerWelcome);
    }
}
