package io.machxp.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.replica.ReplicatedPager;
import io.machxp.proto.threads.OwnThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A replicated pager's leader crashes while a kernel with a lease waits, in its clean end, for
 * the answer to its end's keepalive (xp-spec 2.6): the answer is held in a proxy in front of the
 * leader, so it never arrives. The kernel's session is still open then: it resumes at the next
 * leader, sends a keepalive again, and its close ends on that answer, with no log line; the page
 * is in the group's state. Before, the break ended the close at once with a WARN.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CleanEndLeaderChangeTest {
    private static final Duration LEASE = Duration.ofSeconds(20);

    @Test
    void aLeaderChangeDuringACleanEndIsResumedAndTheNewLeadersAnswerEndsIt() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger linksLog = (Logger) LoggerFactory.getLogger("io.machxp.kernel.PagerLinks");
        Logger coreLog = (Logger) LoggerFactory.getLogger("io.machxp.kernel.core.KernelCore");
        Level linksLevel = linksLog.getLevel();
        Level coreLevel = coreLog.getLevel();
        ListAppender<ILoggingEvent> core = new ListAppender<>();
        try (ReplicaGroup group = new ReplicaGroup(3, Map.of(ReplicaGroup.OBJECT, ReplicaGroup.OBJECT_SIZE), LEASE);
                AutoCloseable unwatched = () -> {
                    linksLog.detachAppender(logged);
                    linksLog.setLevel(linksLevel);
                    coreLog.detachAppender(core);
                    coreLog.setLevel(coreLevel);
                }) {
            ReplicatedPager leader = group.awaitLeader();
            String[] at = leader.address().split(":");
            try (FreezingProxy proxy = new FreezingProxy(at[0], Integer.parseInt(at[1]))) {
                List<String> targets = new ArrayList<>(List.of(proxy.address()));
                group.replicas.stream().filter(r -> r != leader).forEach(r -> targets.add(r.address()));
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", String.join("+", targets))
                        // well below the class timeout: setup, the wait, the reader all fit
                        .withCloseWait(Duration.ofSeconds(50)));
                try (AutoCloseable closed = kernel::close;
                        KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
                    TaskClient task = client.taskCreate("writer");
                    long base = task.vmMap(ReplicaGroup.OBJECT);
                    task.writeLong(base + 16, 0x5eed_1234L);
                    linksLog.setLevel(Level.INFO);
                    logged.start();
                    linksLog.addAppender(logged);
                    coreLog.setLevel(Level.INFO);
                    core.start();
                    coreLog.addAppender(core);

                    proxy.freeze(); // the leader's answers are held from now on
                    CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);
                    await().atMost(Duration.ofSeconds(30)).until(() -> core.list.stream()
                            .anyMatch(e -> e.getFormattedMessage().contains("returned its pages")));
                    leader.close(); // crashes with the answer on its way
                    proxy.close(); // its address refuses connections from now on, as a dead host's
                    closing.get(70, TimeUnit.SECONDS);
                    assertThat(logged.list).as("the new leader's answer ended the close's wait")
                            .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
                }
            }
            ReplicatedPager next = group.awaitLeader();
            assertThat(next).isNotSameAs(leader);
            Kernel reader = Kernel.start(KernelConfig.loopback("B", next.address()));
            try (AutoCloseable closed = reader::close;
                    KernelClient client = KernelClient.connect("127.0.0.1:" + reader.port())) {
                TaskClient task = client.taskCreate("reader");
                assertThat(task.readLong(task.vmMap(ReplicaGroup.OBJECT) + 16)).as("the page is in the group's state")
                        .isEqualTo(0x5eed_1234L);
            }
        }
    }
}
