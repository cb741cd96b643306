package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * What a session keeps for a resume is bounded by what it costs the pager, not by encoded bytes
 * alone: a resumable kernel whose keepalives never say what it received (received = 0) makes the
 * pager keep every keepalive answer, 4 bytes encoded and about 70 in memory each.
 */
class ReplayLogBoundTest {
    @Test
    void tinyMessagesNeverAcknowledgedOverflowTheLogAtItsMemoryBound() {
        ReplayLog log = new ReplayLog(1);
        PagerToKernel answer = PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder()
                .setSequence(1)).build();
        int fit = (int) (ReplayLog.MAX_BYTES / (answer.getSerializedSize() + ReplayLog.MESSAGE_OVERHEAD));
        for (int i = 0; i < fit; i++) {
            log.sent(answer);
        }
        assertThat(log.overflowed).isFalse();
        assertThat(log.keptCount()).isEqualTo(fit);
        log.sent(answer);
        assertThat(log.overflowed).as("past the bound: the log gives up, the session is not resumable").isTrue();
        assertThat(log.keptCount()).isZero();
        assertThat(fit).as("a few hundred thousand, not millions").isLessThan(300_000);
    }

    @Test
    void acknowledgedMessagesFreeTheirCost() {
        ReplayLog log = new ReplayLog(1);
        PagerToKernel answer = PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder()
                .setSequence(1)).build();
        int fit = (int) (ReplayLog.MAX_BYTES / (answer.getSerializedSize() + ReplayLog.MESSAGE_OVERHEAD));
        for (int i = 0; i < 3 * fit; i++) {
            log.sent(answer);
            log.acknowledged(i + 1);
        }
        assertThat(log.overflowed).isFalse();
        assertThat(log.keptCount()).isZero();
        assertThat(log.cannotResume(3L * fit)).isNull();
    }

    @Test
    void aLogThatOverflowedKeepsAgainOnceAKeepaliveAcknowledgesThroughTheOverflow() {
        ReplayLog log = new ReplayLog(1);
        PagerToKernel answer = PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder()
                .setSequence(1)).build();
        while (!log.overflowed) {
            log.sent(answer);
        }
        long overflow = log.sent;
        log.sent(answer); // lost too: the log does not keep yet
        log.acknowledged(overflow - 1);
        log.sent(answer);
        assertThat(log.cannotResume(log.sent - 1)).as("not acknowledged through the overflow yet").isNotNull();

        log.acknowledged(log.sent - 1); // the kernel has everything up to the overflow point and beyond
        log.sent(answer);
        assertThat(log.cannotResume(log.sent - 1)).as("a resume after the overflow").isNull();
        assertThat(log.after(log.sent - 1)).containsExactly(answer);
        assertThat(log.cannotResume(overflow - 1)).as("a resume from before it").isNotNull();
    }
}
