package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * machxp pager's close at exit, and cluster up's wait for its pager, give the pager's close its
 * whole deadline ({@link Pager#CLOSE_BOUND}) with room to log what it skipped (late9 review MED-3:
 * the CLI closed within 15 s, which cut the store's part of close off in the middle, logging nothing).
 */
class PagerExitBoundTest {
    @Test
    void thePagersExitBoundCoversItsClosesDeadline() {
        assertThat(PagerCommand.EXIT_BOUND).isGreaterThan(Pager.CLOSE_BOUND);
        assertThat(ChildProcess.PAGER_STOP_BOUND).isGreaterThan(PagerCommand.EXIT_BOUND);
        assertThat(Pager.CLOSE_BOUND).as("the retry's 60 s after the server's shutdown")
                .isGreaterThan(Pager.STORE_CLOSE_ANSWER.plus(Pager.ADMIN_ANSWER));
        assertThat(ChildProcess.PAGER_STOP_BOUND).as("within systemd's default stop timeout")
                .isLessThanOrEqualTo(Duration.ofSeconds(90));
    }
}
