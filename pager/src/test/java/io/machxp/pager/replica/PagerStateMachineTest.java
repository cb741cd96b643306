package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Map;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.Test;

/**
 * Installs of snapshots from the leader, in the orders Ratis may call the state machine: before
 * each reinitialize Ratis asserts that the state machine is PAUSED (and closes the replica's Raft
 * server if it is not), so each reinitialize here first checks what Ratis checks.
 */
class PagerStateMachineTest {
    private static final ReplicaCore.Outlet NOWHERE = new ReplicaCore.Outlet() {
        @Override
        public void send(long sessionId, PagerToKernel message) {
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
        }
    };

    private final PagerStateMachine machine = new PagerStateMachine(
            new ReplicaCore("p", 4096, Map.of("obj", 4L * 4096), 1_000_000_000L, NOWHERE, new PagerStats()),
            leader -> { });

    PagerStateMachineTest() {
        machine.getLifeCycle().startAndTransition(() -> { }); // what initialize does, without a Raft server
    }

    /** What Ratis's applying thread does after an install's last chunk. */
    private void reload() throws Exception {
        assertThat(machine.getLifeCycleState()).as("the state Ratis asserts before reinitialize")
                .isEqualTo(LifeCycle.State.PAUSED);
        machine.reinitialize();
    }

    @Test
    void oneInstallOfSeveralChunks() throws Exception {
        machine.pause();
        machine.pause();
        machine.pause();
        reload();
        assertThat(machine.installed()).isEqualTo(1);
    }

    @Test
    void installsOneAfterTheOther() throws Exception {
        machine.pause();
        reload();
        machine.pause();
        reload();
        assertThat(machine.installed()).isEqualTo(2);
    }

    @Test
    void aSecondInstallBegunBeforeTheFirstIsReloaded() throws Exception {
        machine.pause(); // the first snapshot's chunk
        machine.pause(); // the second's, before the applying thread reloaded the first
        reload();
        reload(); // the second's reload: failed when the first reinitialize went back to RUNNING
        assertThat(machine.installed()).isEqualTo(2);
    }
}
