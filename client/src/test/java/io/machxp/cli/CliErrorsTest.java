package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Errors a person can act on: one line naming the address, file or value, the cause and what to do. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliErrorsTest {

    @Test
    void aKernelOnAPortInUseFailsBeforeThePagerHearsOfIt() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()));
                ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            KernelConfig free = KernelConfig.loopback("A", pager.target());
            KernelConfig config = new KernelConfig("A", pager.target(), "127.0.0.1", taken.getLocalPort(),
                    free.connectTimeout(), free.core());
            assertThatThrownBy(() -> Kernel.start(config)).isInstanceOf(IOException.class)
                    .hasMessageContaining("kernel A: cannot listen on 127.0.0.1:" + taken.getLocalPort())
                    .hasMessageContaining("choose another --port");
            assertThat(pager.stats().received(io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_HELLO))
                    .as("no session was opened").isZero();
        }
    }

    @Test
    void aPagerOnAPortInUseSaysWhyAndWhatToDo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            ExitCodesTest.Run r = ExitCodesTest.run("pager", "--port", String.valueOf(port), "--fresh-start");
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + port + ": Address already in use")
                    .contains("choose another --port, or 0 for any free one").doesNotContain("\tat ").hasLineCount(1);
        }
    }

    @Test
    void theViewOnAPortInUseSaysWhyAndWhatToDo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            ExitCodesTest.Run r = ExitCodesTest.run("view", "--pager", "127.0.0.1:1", "--port", String.valueOf(port));
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).contains("the view cannot listen on 127.0.0.1:" + port + ": Address already in use")
                    .contains("or 0 for any free one").doesNotContain("\tat ").hasLineCount(1);
        }
    }

    /** Netty's native transport words ("bind(..) failed with error(-98): ") are not the user's business. */
    @Test
    void socketErrorsAreTheSystemsWordsAlone() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()));
                ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ExitCodesTest.Run kernel = ExitCodesTest.run("kernel", "--name", "A", "--pager", pager.target(),
                    "--port", String.valueOf(taken.getLocalPort()));
            assertThat(kernel.exit()).as(kernel.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(kernel.err()).contains(taken.getLocalPort() + ": Address already in use; ")
                    .doesNotContain("(..)").doesNotContain("error(");
        }
        try (RefusingPort down = RefusingPort.open()) { // held: no server of another test can take it meanwhile
            ExitCodesTest.Run status = ExitCodesTest.run("status", "--pager", down.target());
            assertThat(status.exit()).as(status.err()).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(status.err()).contains("cannot reach " + down.target() + ": Connection refused")
                    .doesNotContain("(..)").doesNotContain("error(");
        }
    }

    /** A server with TLS closes a plaintext connection at once: the sentence says to give the TLS files. */
    @Test
    void aPlaintextClientOfATlsServerIsToldToGiveItsTlsFiles(@TempDir Path dir) throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(ExitCodesTest.run("certs", certs.toString()).exit()).isZero();
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()).withTransport(
                io.machxp.proto.transport.Transport.mutualTls(io.machxp.proto.transport.TlsFiles.inDirectory(certs,
                        "pager"))))) {
            ExitCodesTest.Run status = ExitCodesTest.run("status", "--pager", pager.target());
            assertThat(status.exit()).as(status.err()).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(status.err()).contains("cannot reach " + pager.target())
                    .contains("as a server with TLS does to a client without it: give --tls-cert, --tls-key and --tls-ca")
                    .doesNotContain("is the server running").hasLineCount(1);
            ExitCodesTest.Run kernel = ExitCodesTest.run("kernel", "--name", "A", "--pager", pager.target(),
                    "--port", "0", "--connect-timeout", "10");
            assertThat(kernel.exit()).as(kernel.err()).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(kernel.err()).contains("cannot reach the pager at " + pager.target())
                    .contains("give --tls-cert, --tls-key and --tls-ca").doesNotContain("is it running");
        }
    }

    @Test
    void aKernelWithoutItsPagerExitsThreeNamingTheAddress() {
        ExitCodesTest.Run r = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--port", "0",
                "--connect-timeout", "5");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("kernel A").contains("127.0.0.1:1").contains("is it running")
                .doesNotContain("\tat ").hasLineCount(1);
    }

    /**
     * A replica whose Raft port (its XP port plus one) is in use: Ratis ended the whole process
     * (System.exit(1), "Failed to start Grpc server" and its stack trace); now one sentence with the
     * address and what to do, exit 1, and this JVM (the command ran in it) goes on.
     */
    @Test
    void aReplicaWhoseRaftPortIsInUseSaysWhichAndWhatToDo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int raft = taken.getLocalPort();
            java.util.Map<String, String> others = io.machxp.pager.replica.ReplicaConfig.loopback(2);
            ExitCodesTest.Run r = ExitCodesTest.run("pager", "--replicas", "a=127.0.0.1:" + (raft - 1) + ",b="
                    + others.get("a") + ",c=" + others.get("b"), "--replica", "a", "--bind", "127.0.0.1", "--fresh-start");
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).startsWith("machxp pager: pager pager replica a: cannot listen on 127.0.0.1:" + raft
                    + ", its Raft port (the next after its XP port " + (raft - 1) + "): Address already in use; ")
                    .contains("give replica a another port in every replica's --replicas").doesNotContain("\tat ")
                    .hasLineCount(1);
        }
    }

    @Test
    void raftSyncIsCheckedBeforeAnyReplicaStarts() {
        ExitCodesTest.Run bad = ExitCodesTest.run("pager", "--replicas", "a=127.0.0.1:1,b=127.0.0.1:3,c=127.0.0.1:5",
                "--replica", "a", "--raft-sync", "sometimes");
        assertThat(bad.exit()).as(bad.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err()).contains("--raft-sync 'sometimes'").contains("fsync, none").doesNotContain("\tat ");
        ExitCodesTest.Run single = ExitCodesTest.run("pager", "--port", "0", "--raft-sync", "none");
        assertThat(single.exit()).as(single.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(single.err()).contains("--raft-sync none applies to a replicated pager").contains("--replicas");
    }

    /**
     * A replicated pager builds its core only when it applies its group's genesis, on Ratis's
     * applying thread: a bad object size found there closed each replica's Raft server in turn
     * while the command ran on. It is refused before any replica starts.
     */
    @Test
    void aReplicatedPagersObjectsAreCheckedBeforeAnyReplicaStarts() {
        ExitCodesTest.Run r = ExitCodesTest.run("pager", "--replicas", "a=127.0.0.1:1,b=127.0.0.1:3,c=127.0.0.1:5",
                "--replica", "a", "--object", "shared=5000");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("memory object 'shared' has size 5000")
                .contains("a positive multiple of the page size 4096").doesNotContain("\tat ");
        ExitCodesTest.Run page = ExitCodesTest.run("pager", "--replicas", "a=127.0.0.1:1,b=127.0.0.1:3,c=127.0.0.1:5",
                "--replica", "a", "--page-size", "100");
        assertThat(page.exit()).as(page.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(page.err()).contains("page size 100 must be a power of two of at least 64");
    }

    @Test
    void demoConnectRefusesWhatCannotApplyToRunningKernels() {
        for (String flag : DemoCommand.EMBEDDED_ONLY) {
            String[] args = flag.equals("--kernels") || flag.equals("--pagers")
                    ? new String[] {"demo", "--connect", "127.0.0.1:1", "--pager", "127.0.0.1:1", flag, "2"}
                    : new String[] {"demo", "--connect", "127.0.0.1:1", "--pager", "127.0.0.1:1", flag};
            ExitCodesTest.Run r = ExitCodesTest.run(args);
            assertThat(r.exit()).as(flag).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).as(flag).contains(flag + " cannot apply to running kernels").doesNotContain("cache off");
        }
        ExitCodesTest.Run embedded = ExitCodesTest.run("demo", "--object", "x");
        assertThat(embedded.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(embedded.err()).contains("--object is for --connect");
    }

    @Test
    void theIpcDemoRefusesTheFutexDemosOptions() {
        ExitCodesTest.Run r = ExitCodesTest.run("demo", "--ipc", "--threads", "2");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--threads is for the futex demo");
        ExitCodesTest.Run one = ExitCodesTest.run("demo", "--ipc", "--kernels", "1");
        assertThat(one.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(one.err()).contains("--ipc needs --kernels 2 or more");
    }

    /** Every error line starts "machxp COMMAND:", and its hint names the command as the user types it. */
    @Test
    void aKernelsBadNumbersAndShmDirAreNamedAsMachxpKernel(@TempDir Path dir) {
        ExitCodesTest.Run cpus = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--cpus", "0");
        assertThat(cpus.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(cpus.err()).startsWith("machxp kernel: --cpus must be 1 or more")
                .contains("Try 'machxp kernel --help'");
        ExitCodesTest.Run shm = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1",
                "--shm-dir", dir.resolve("absent").toString());
        assertThat(shm.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(shm.err()).startsWith("machxp kernel: --shm-dir ").contains("Try 'machxp kernel --help'");
    }

    /** java -jar client/target/machxp.jar bench suggested 'machxp chaos'; it says which jar has bench. */
    @Test
    void aBenchCommandOfTheClientJarSaysWhichJarHasIt() {
        for (String command : new String[] {"bench", "scale", "jmh", "compare", "pager-efficiency"}) {
            ExitCodesTest.Run r = ExitCodesTest.run(command, "--systems", "machxp");
            assertThat(r.exit()).as(command).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).as(command).contains(command + " runs from the bench module's jar: ./machxp " + command)
                    .doesNotContain("Did you mean").hasLineCount(1);
        }
    }

    @Test
    void kernelIpcOptionsAreCheckedBeforeAnythingStarts() {
        ExitCodesTest.Run noListen = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--ipc-id", "1");
        assertThat(noListen.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(noListen.err()).contains("IPC links need both --ipc-id and --ipc-listen");
        ExitCodesTest.Run badPeer = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--ipc-id", "1",
                "--ipc-listen", "127.0.0.1:0", "--ipc-peer", "127.0.0.1:7402");
        assertThat(badPeer.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(badPeer.err()).contains("write ID=HOST:PORT");
        ExitCodesTest.Run self = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--ipc-id", "1",
                "--ipc-listen", "127.0.0.1:0", "--ipc-peer", "1=127.0.0.1:7402");
        assertThat(self.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(self.err()).contains("is this kernel's own");
    }

    @Test
    void aMissingOrMalformedScenarioIsOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        ExitCodesTest.Run missing = ExitCodesTest.run("run", dir.resolve("nope.yaml").toString());
        assertThat(missing.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).contains("nope.yaml: no such file").hasLineCount(1);
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "kernels: [{name: A}\nthreads: x\n");
        ExitCodesTest.Run malformed = ExitCodesTest.run("run", bad.toString());
        assertThat(malformed.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(malformed.err()).matches("(?s)machxp run: bad\\.yaml:\\d+:\\d+: not valid YAML: .*").hasLineCount(1);
    }
    /** A pager's port given where a kernel's is meant: one sentence naming the address and the likely mix-up. */
    @Test
    void aPagersAddressGivenForAKernelSaysItIsNotAKernel() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()))) {
            ExitCodesTest.Run lock = ExitCodesTest.run("lock", "--kernel", pager.target(), "shared:0", "--", "true");
            assertThat(lock.exit()).as(lock.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(lock.err()).startsWith("machxp lock: " + pager.target() + " does not serve machxp.task.MachTask/")
                    .contains("it is not a kernel").contains("is the address right").doesNotContain("\tat ")
                    .hasLineCount(1);
            ExitCodesTest.Run status = ExitCodesTest.run("status", "--pager", pager.target(), "--kernel", pager.target());
            assertThat(status.exit()).as(status.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(status.err()).contains(pager.target() + " does not serve").contains("it is not a kernel")
                    .hasLineCount(1);
        }
    }

    /** Durations on the command line: the option named once, and whole minutes as "must be 0 to 10m" says. */
    @Test
    void badDurationsNameTheOptionAndMinutesAreDurations() {
        ExitCodesTest.Run bad = ExitCodesTest.run("demo", "--warmup", "5x");
        assertThat(bad.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err()).contains("machxp demo: Invalid value for option '--warmup': '5x' is not a duration; "
                + "write it like 500ms, 1.5s, 10m or 0").doesNotContain("the option:");
        assertThat(new DurationConverter().convert("10m")).isEqualTo(java.time.Duration.ofMinutes(10));
        assertThat(new DurationConverter().convert("1h")).isEqualTo(java.time.Duration.ofHours(1));
        assertThat(new DurationConverter().convert("250ms")).isEqualTo(java.time.Duration.ofMillis(250));
        ExitCodesTest.Run minute = ExitCodesTest.run("lock", "--kernel", "127.0.0.1:1", "--timeout", "1m", "shared:0",
                "--", "true");
        assertThat(minute.exit()).as("1m is a timeout; nothing listens there: " + minute.err())
                .isEqualTo(ExitCodes.UNREACHABLE);
        ExitCodesTest.Run lockBad = ExitCodesTest.run("lock", "--kernel", "127.0.0.1:1", "--timeout", "soon", "shared:0",
                "--", "true");
        assertThat(lockBad.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(lockBad.err()).contains("machxp lock: --timeout 'soon' is not a duration").hasLineCount(1);
    }

    /** A kernel's --connect-timeout of 0 or less is a usage error, not "did not answer within -1 s" (exit 3). */
    @Test
    void aKernelsConnectTimeoutMustBePositive() {
        ExitCodesTest.Run r = ExitCodesTest.run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--port", "0",
                "--connect-timeout", "-1");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).startsWith("machxp kernel: --connect-timeout -1 must be 1 or more");
    }
    /**
     * A state file left by a 'cluster up' killed outright may hold the number of a program started
     * since: 'cluster down' said nothing and sent it SIGTERM. It is left alone, and a file that holds
     * no number is named as such.
     */
    @Test
    void clusterDownSignalsOnlyAClusterUp(@TempDir Path dir) throws Exception {
        Process other = new ProcessBuilder("sleep", "60").start();
        try {
            Path state = dir.resolve("cluster.pid");
            Files.writeString(state, other.pid() + "\n");
            ExitCodesTest.Run down = ExitCodesTest.run("cluster", "down", "--state", state.toString());
            assertThat(down.exit()).as(down.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(down.err()).contains("no cluster is up").contains("another program's, left alone")
                    .hasLineCount(1);
            assertThat(other.isAlive()).as("the other program was not signalled").isTrue();
            Files.writeString(state, "garbage\n");
            ExitCodesTest.Run garbage = ExitCodesTest.run("cluster", "down", "--state", state.toString());
            assertThat(garbage.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(garbage.err()).contains(state + " holds no process id").hasLineCount(1);
        } finally {
            other.destroyForcibly();
        }
    }
}
