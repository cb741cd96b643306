package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A signal (Ctrl-C, SIGTERM) that reaches machxp lock after CMD exited, while lock is releasing
 * the futex (late4 review A5). Before, the shutdown hook was removed when CMD ended, or, when the
 * signal came first, returned at once having no CMD to stop: the JVM could halt before the unlock
 * and the next owner was told OWNER_DIED for a futex released cleanly. Here the test holds the
 * JVM's part: it keeps the hook lock installs and runs it as the JVM would on the signal, with the
 * release still under way; the hook must wait (parked) until the release ends, and only then end.
 */
class LockSignalAfterCommandTest {
    /** The JVM's shutdown hooks, as the test sees them. */
    private final RecordedHooks recorded = new RecordedHooks();
    private final List<Thread> hooks = recorded.hooks;
    private final LockSignalGuard guard = new LockSignalGuard(recorded);

    @Test
    void aSignalAfterTheCommandExitedWaitsForTheReleaseUnderWay() throws Exception {
        guard.held(); // granted
        guard.running(null); // CMD ran and exited; the release has begun, not ended
        assertThat(hooks).as("the hook stays until the release ends").hasSize(1);

        Thread signal = hooks.get(0);
        signal.start(); // the signal: the JVM runs its hooks and halts once they have ended
        // until the hook is parked on something (the release it waits for) or has ended
        while (java.util.concurrent.locks.LockSupport.getBlocker(signal) == null
                && signal.getState() != Thread.State.TERMINATED) {
            Thread.onSpinWait();
        }
        assertThat(signal.isAlive()).as("the hook waits for the release (old code: it ended at once)").isTrue();

        guard.released(); // the unlock is done
        signal.join();
        assertThat(hooks).isEmpty();
    }

    @Test
    void withoutASignalTheHookIsGoneOnceReleased() {
        guard.held();
        guard.running(null);
        guard.released();
        assertThat(hooks).isEmpty();
    }
}
