package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.cli.Machxp;
import io.machxp.cli.RefusingPort;
import io.machxp.conform.kernel.KernelCases;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelPlants;
import io.machxp.proto.task.Errno;
import io.machxp.proto.threads.OwnThreads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * machxp conform kernel as a user and a CI run it: the kit listens, a kernel connects to it, and
 * the output, JUnit XML and exit status follow; a kernel that never connects is exit status 3.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConformKernelCommandTest {
    private Kernel kernel;

    @AfterEach
    void stop() {
        if (kernel != null) {
            kernel.close();
        }
    }

    private record Run(int exit, String out, String err) {}

    /** The command in the background (it waits for the kernel), its output once it ends. */
    private static CompletableFuture<Run> machxp(String... args) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        return OwnThreads.supply("machxp-command", () -> {
            var cl = Machxp.commandLine();
            cl.setErr(new PrintWriter(err, true));
            return cl.execute(args);
        }).handle((exit, t) -> {
            System.setOut(stdout);
            System.setErr(stderr);
            return new Run(exit == null ? -1 : exit, out.toString(StandardCharsets.UTF_8),
                    err + errBytes.toString(StandardCharsets.UTF_8) + (t == null ? "" : t));
        });
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Waits (until a deadline) for the kit's pager to take connections, then starts a kernel that uses it. */
    private Kernel kernelOn(int pagerPort, int taskPort, KernelPlants plants) throws IOException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", pagerPort), 200);
                break;
            } catch (IOException e) {
                if (System.nanoTime() > until) {
                    throw e;
                }
            }
        }
        kernel = Kernel.start(new KernelConfig("cli-kernel", "127.0.0.1:" + pagerPort, "127.0.0.1", taskPort,
                KernelConfig.LOOPBACK_CONNECT_TIMEOUT, CoreOptions.DEFAULT.withPlants(plants)));
        return kernel;
    }

    @Test
    void passingCasesExitZeroWithJsonAndJunitXml(@TempDir Path dir) throws Exception {
        int listen = freePort();
        int tasks = freePort();
        Path junit = dir.resolve("kernel.xml");
        CompletableFuture<Run> run = machxp("conform", "kernel", "--listen", String.valueOf(listen), "--target",
                "127.0.0.1:" + tasks, "--cases", "^(2\\.1|8\\.4-relinquish)-", "--lease", "10s", "--json", "--junit",
                junit.toString());
        kernelOn(listen, tasks, KernelPlants.NONE);
        Run r = run.get(50, TimeUnit.SECONDS);

        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("passed").asInt()).isEqualTo(3);
        assertThat(json.get("suite").asText()).isEqualTo("machxp conform kernel");
        assertThat(Files.readString(junit)).contains("<testsuite name=\"machxp conform kernel 127.0.0.1:" + tasks
                + "\" tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"0\"")
                .contains("classname=\"xp-spec.8.4\" name=\"8.4-relinquish-free [MUST]");
    }

    @Test
    void aKernelThatBreaksAMustRuleExitsTwo() throws Exception {
        int listen = freePort();
        int tasks = freePort();
        CompletableFuture<Run> run = machxp("conform", "kernel", "--listen", String.valueOf(listen), "--target",
                "127.0.0.1:" + tasks, "--cases", "^11\\.1-(bad-address|unknown-task)$", "--lease", "10s");
        kernelOn(listen, tasks, new KernelPlants() {
            @Override
            public Errno unmappedAddress(Errno errno) {
                return Errno.EIO;
            }
        });
        Run r = run.get(50, TimeUnit.SECONDS);

        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.out()).contains("FAIL  MUST   11.1  11.1-bad-address").contains("PASS  MUST   11.1  11.1-unknown-task")
                .contains("it failed with UNAVAILABLE").contains("1 MUST cases did not pass");
    }

    @Test
    void noKernelConnectingExitsThree() throws Exception {
        Run r;
        try (RefusingPort noKernel = RefusingPort.open()) { // held: no other test's kernel can listen there meanwhile
            r = machxp("conform", "kernel", "--listen", "0", "--target", noKernel.target(),
                    "--connect-timeout", "300ms").get(30, TimeUnit.SECONDS);
        }

        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("no kernel connected to the kit's pager");
    }

    @Test
    void usageErrorsExitOneAndListNamesEveryCase() throws Exception {
        Run noTarget = machxp("conform", "kernel").get(30, TimeUnit.SECONDS);
        assertThat(noTarget.exit()).isEqualTo(1);
        assertThat(noTarget.err()).contains("--target HOST:PORT");
        Run list = machxp("conform", "kernel", "--list").get(30, TimeUnit.SECONDS);
        assertThat(list.exit()).isZero();
        assertThat(list.out().lines()).hasSameSizeAs(KernelCases.all());
        assertThat(list.out()).contains("9.4-reclaim").contains("8.5-token-echo");
    }
}
