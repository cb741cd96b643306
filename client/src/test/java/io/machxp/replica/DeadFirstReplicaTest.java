package io.machxp.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel whose --pager lists first a replica that is down (nothing listens there) starts all
 * the same: its first attempt fails without the pager's word, and the next goes to the next
 * replica of the list (which leads, or names the leader). Before, a kernel always began at the
 * head of its list, and a kernel that started, or opened a new session, while that replica was
 * down never reached the others.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeadFirstReplicaTest {
    @Test
    void aKernelStartsWhenTheFirstReplicaOfItsListIsDown() throws Exception {
        try (ReplicaGroup group = new ReplicaGroup(3)) {
            group.awaitLeader();
            String target = io.machxp.pager.replica.ReplicaConfig.loopback(1).get("a") + "+" + group.kernelTarget();
            try (Kernel kernel = Kernel.start(KernelConfig.loopback("k", target));
                    KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
                TaskClient task = client.taskCreate("t");
                long base = task.vmMap(ReplicaGroup.OBJECT);
                task.writeLong(base + 8, 42);
                assertThat(task.threadCreate().tryLockFutex(base)).isTrue();
                assertThat(task.readLong(base + 8)).isEqualTo(42);
            }
        }
    }
}
