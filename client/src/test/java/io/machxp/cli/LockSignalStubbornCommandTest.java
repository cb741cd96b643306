package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A signal to machxp lock while CMD runs and CMD ignores SIGTERM: the hook sends SIGKILL once its
 * bound for CMD has passed, and the release follows (late6 review A9: it waited for CMD without a
 * bound, so Ctrl-C could not stop lock). The test plays the JVM (it runs the hook lock installs)
 * and CMD (a process that ends only when killed; its timed waits say at once that it has not ended).
 */
class LockSignalStubbornCommandTest {
    /** The JVM's shutdown hooks, as the test sees them. */
    private final RecordedHooks recorded = new RecordedHooks();
    private final List<Thread> hooks = recorded.hooks;
    private final LockSignalGuard guard = new LockSignalGuard(recorded);

    /** A CMD that ignores SIGTERM and ends at SIGKILL; once it has ended, lock releases the futex. */
    private final class Stubborn extends Process {
        final CountDownLatch killed = new CountDownLatch(1);
        final List<String> signals = new CopyOnWriteArrayList<>();

        @Override
        public void destroy() {
            signals.add("TERM"); // ignored
        }

        @Override
        public Process destroyForcibly() {
            signals.add("KILL");
            killed.countDown();
            guard.running(null);
            guard.released(); // lock's thread saw CMD end and unlocked
            return this;
        }

        @Override
        public int waitFor() throws InterruptedException {
            killed.await();
            return 137;
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) {
            return killed.getCount() == 0; // its bound has passed: it has not ended unless killed
        }

        @Override
        public int exitValue() {
            if (killed.getCount() != 0) {
                throw new IllegalThreadStateException("running");
            }
            return 137;
        }

        @Override
        public OutputStream getOutputStream() {
            return OutputStream.nullOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return InputStream.nullInputStream();
        }

        @Override
        public InputStream getErrorStream() {
            return InputStream.nullInputStream();
        }
    }

    @Test
    void aCommandIgnoringSigtermIsKilledAndTheSignalEnds() throws Exception {
        Stubborn cmd = new Stubborn();
        guard.held();
        guard.running(cmd);
        Thread signal = hooks.get(0);
        signal.start(); // the signal: the JVM runs its hooks
        signal.join(TimeUnit.SECONDS.toMillis(30)); // a guard against a hang, not a timing
        assertThat(signal.isAlive()).as("the hook ended (old code: it waited for CMD for good)").isFalse();
        assertThat(cmd.signals).containsExactly("TERM", "KILL");
        assertThat(hooks).isEmpty();
    }
}
