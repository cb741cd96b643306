package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * The messages a restarted pager holds in its grace period for kernels it does not serve yet
 * (xp-spec 9.3; review F3) are bounded in bytes: 16 MiB a session and 256 MiB in all. The session
 * whose message would pass a bound is ended with EAGAIN and a sentence, nothing of it kept; the
 * other sessions' held messages are handled when grace ends. Before, only the count (2^16 a
 * session) was bounded, so one session could have the pager hold 2^16 messages of 4 MiB.
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
}
