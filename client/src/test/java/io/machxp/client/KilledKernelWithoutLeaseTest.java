package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.task.VmLockFutexReply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pager without a lease (--lease-ms 0) and a kernel A in a process of its own, SIGKILLed: the
 * pager sees A's stream end and gives A's futex and page to kernel B at once. Nothing bounds a
 * task process of A in time then, so in a session without a lease a task process takes nothing on
 * the fast path (no fast lock, no mapped word): those calls go through A, and end with it
 * (docs/shared-memory.md, "Without a lease"). Before, the task process (this JVM) still took the
 * futex and read and wrote the page in A's orphaned files, a second owner beside B.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KilledKernelWithoutLeaseTest {
    private static final long W = 4096 + 8;

    @Test
    void aKilledKernelsTaskProcessMakesNoFastCall() throws Exception {
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "machxp-nolease");
        Files.setPosixFilePermissions(shm, PosixFilePermissions.fromString("rwx------"));
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process a = null;
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4 * 4096L)).withLease(Duration.ZERO))) {
            a = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"), "io.machxp.cli.Machxp",
                    "kernel", "--name", "A", "--pager", pager.target(), "--port", String.valueOf(port),
                    "--shm-dir", shm.toString())).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try (Kernel b = Kernel.start(KernelConfig.loopback("B", pager.target()));
                    KernelClient clientA = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                        KernelClient k = KernelClient.connect("127.0.0.1:" + port);
                        k.taskCreate("probe").terminate();
                        return k;
                    }, k -> true)) {
                TaskClient task = clientA.taskCreate("task-process");
                long base = task.vmMap("obj");
                assertThat(task.sharesMemory()).as("attached: the call file still serves it").isTrue();
                ThreadClient t = task.threadCreate();
                t.lockFutex(base);
                t.unlockFutex(base);
                long before = clientA.callsMade();
                t.lockFutex(base); // cached on A: with a lease, the fast path from here on
                task.writeLong(base + W, 1);
                assertThat(task.readLong(base + W)).isEqualTo(1);
                t.unlockFutex(base);
                assertThat(clientA.callsMade() - before)
                        .as("without a lease the lock, the write and the read go to the kernel (the unlock gives, "
                                + "never takes: still one CAS)").isEqualTo(3);

                a.destroyForcibly(); // SIGKILL kernel A
                a.waitFor(30, TimeUnit.SECONDS);

                try (KernelClient clientB = KernelClient.connect("127.0.0.1:" + b.port())) {
                    TaskClient tb = clientB.taskCreate("b");
                    long baseB = tb.vmMap("obj");
                    VmLockFutexReply rb = tb.threadCreate().lock(baseB, null);
                    assertThat(rb.getOwnerDied()).as("A held it free").isFalse();
                    tb.writeLong(baseB + W, 2);
                }
                boolean locked = t.sharedThread().tryLock(base);
                long[] out = new long[1];
                boolean read = task.sharedWords().read(base + W, 8, out);
                boolean wrote = task.sharedWords().write(base + W, 8, 3);
                assertThat("fastlock=" + locked + " read=" + read + " write=" + wrote)
                        .as("the task process of the killed kernel A, after B took the futex and wrote")
                        .isEqualTo("fastlock=false read=false write=false");
            }
        } finally {
            if (a != null) {
                a.destroyForcibly();
                a.waitFor(30, TimeUnit.SECONDS);
            }
            try (var files = Files.walk(shm)) {
                files.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
            }
        }
    }
}
