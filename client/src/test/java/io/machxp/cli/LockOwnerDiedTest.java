package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * machxp lock after an owner died holding the futex (frontdoor review H2): the grant says
 * owner_died, and CMD, told MACHXP_OWNER_DIED=true, is the repair. Before, lock unlocked without
 * vm_futex_consistent whatever CMD did, which makes a robust futex ENOTRECOVERABLE: every later
 * lock failed. Now a CMD that exits 0 has the futex marked consistent before it is unlocked; one
 * that fails or cannot be started leaves it to the next owner with OWNER_DIED again.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LockOwnerDiedTest {
    Pager pager;
    Kernel a;
    Kernel b;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()));
        a = Kernel.start(KernelConfig.loopback("A", pager.target()));
        b = Kernel.start(KernelConfig.loopback("B", pager.target()));
        // An owner on B dies holding shared:0: its task ends with the futex locked.
        try (KernelClient other = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient task = other.taskCreate("dies holding");
            ThreadClient t = task.threadCreate();
            t.lockFutex(task.vmMap("shared"));
            task.terminate();
        }
    }

    @AfterEach
    void stop() {
        b.close();
        a.close();
        pager.close();
    }

    /** One `machxp lock shared:0` on kernel A whose CMD appends MACHXP_OWNER_DIED to {@code seen}, then exits {@code exit}. */
    private ExitCodesTest.Run lock(Path seen, int exit) {
        return ExitCodesTest.run("lock", "--kernel", "127.0.0.1:" + a.port(), "shared:0", "--", "sh", "-c",
                "echo $MACHXP_OWNER_DIED >> " + seen + "; exit " + exit);
    }

    @Test
    void aCommandThatExitsZeroRepairsTheFutexForTheNextLock(@TempDir Path dir) throws Exception {
        Path seen = dir.resolve("seen");
        assertThat(lock(seen, 0).exit()).isZero();
        ExitCodesTest.Run next = lock(seen, 0);
        assertThat(next.exit()).as("the futex is usable: %s", next.err()).isZero();
        assertThat(Files.readAllLines(seen)).containsExactly("true", "false");
    }

    @Test
    void aCommandThatFailsLeavesTheRepairToTheNextLock(@TempDir Path dir) throws Exception {
        Path seen = dir.resolve("seen");
        ExitCodesTest.Run failed = lock(seen, 5);
        assertThat(failed.exit()).as("CMD's exit code").isEqualTo(5);
        assertThat(failed.err()).contains("was granted with owner_died", "not marked consistent");
        ExitCodesTest.Run repair = lock(seen, 0);
        assertThat(repair.exit()).as("granted again, with owner_died: %s", repair.err()).isZero();
        assertThat(lock(seen, 0).exit()).isZero();
        assertThat(Files.readAllLines(seen)).containsExactly("true", "true", "false");
    }

    @Test
    void aCommandThatCannotBeStartedLeavesTheRepairToTheNextLock(@TempDir Path dir) throws Exception {
        ExitCodesTest.Run missing = ExitCodesTest.run("lock", "--kernel", "127.0.0.1:" + a.port(), "shared:0", "--",
                dir.resolve("no-such-command").toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("cannot run");
        Path seen = dir.resolve("seen");
        ExitCodesTest.Run repair = lock(seen, 0);
        assertThat(repair.exit()).as("granted again, with owner_died: %s", repair.err()).isZero();
        assertThat(lock(seen, 0).exit()).isZero();
        assertThat(Files.readAllLines(seen)).containsExactly("true", "false");
    }
}
