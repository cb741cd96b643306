package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** machxp run as a user runs it: the timeline, --json, --no-pi, and the exit codes. */
class RunCommandTest {
    static final String INVERSION = Path.of("..", "scenarios", "cross-kernel-inversion.yaml").toString();

    private static ExitCodesTest.Run run(String... args) {
        return ExitCodesTest.run(args);
    }

    @Test
    void theCrossKernelInversionAsJsonWithAndWithoutPi() throws Exception {
        ExitCodesTest.Run pi = run("run", INVERSION, "--json");
        assertThat(pi.exit()).isZero();
        JsonNode json = new ObjectMapper().readTree(pi.out());
        assertThat(json.get("mode").asText()).isEqualTo("sim");
        assertThat(json.get("passed").asBoolean()).isTrue();
        assertThat(json.get("events").size()).isPositive();
        long hWaitPi = waitOf(json, "H");
        assertThat(hWaitPi).isLessThan(55_000_000);

        ExitCodesTest.Run noPi = run("run", INVERSION, "--json", "--no-pi");
        assertThat(noPi.exit()).isZero();
        JsonNode json2 = new ObjectMapper().readTree(noPi.out());
        assertThat(json2.get("priorityInheritance").asBoolean()).isFalse();
        assertThat(waitOf(json2, "H")).isGreaterThanOrEqualTo(200_000_000);
    }

    @Test
    void aSimRunUnderAVariantOfTheWorkbench() {
        ExitCodesTest.Run direct = run("run", INVERSION, "--variant", "direct", "--json");
        ExitCodesTest.Run cache = run("run", INVERSION, "--json");
        assertThat(direct.exit()).isZero();
        assertThat(direct.out()).contains("futex-forwarded");
        assertThat(cache.out()).doesNotContain("futex-forwarded");
        ExitCodesTest.Run bad = run("run", INVERSION, "--variant", "no-such");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("machxp run: --variant:");
        ExitCodesTest.Run real = run("run", INVERSION, "--variant", "direct", "--mode", "real");
        assertThat(real.exit()).isEqualTo(1);
        assertThat(real.err()).contains("--variant applies to sim runs only");
    }

    @Test
    void theTimelineIsForPeopleAndTheSameSeedPrintsTheSameRun() {
        ExitCodesTest.Run a = run("run", INVERSION, "--seed", "9");
        ExitCodesTest.Run b = run("run", INVERSION, "--seed", "9");
        assertThat(a.exit()).isZero();
        assertThat(a.out()).contains("sim mode, seed 9").contains("boost  10 -> 90").contains("PASS  H waits at most 55ms");
        assertThat(b.out()).isEqualTo(a.out());
    }

    @Test
    void aFailedExpectationExitsWithTwoAndABadFileWithOne(@TempDir Path dir) throws Exception {
        Path strict = dir.resolve("strict.yaml");
        Files.writeString(strict, Files.readString(Path.of(INVERSION)).replace("maxWait: 55ms", "maxWait: 1ms"));
        ExitCodesTest.Run failed = run("run", strict.toString());
        assertThat(failed.exit()).isEqualTo(2);
        assertThat(failed.out()).contains("FAIL  H waits at most 1ms (pi)");

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "kernels: [{name: A}]\nthreads: [{name: T, program: [{lock: nowhere}]}]\n");
        ExitCodesTest.Run broken = run("run", bad.toString());
        assertThat(broken.exit()).isEqualTo(1);
        assertThat(broken.err()).contains("bad.yaml:2: thread T, step 1: no word named 'nowhere'").doesNotContain("\tat ");

        Path close = dir.resolve("close.yaml");
        Files.writeString(close, Files.readString(Path.of(INVERSION)).replace("start: 20ms", "start: 5ms"));
        ExitCodesTest.Run warned = run("run", close.toString());
        assertThat(warned.err()).contains("close.yaml:27: warning: thread H starts 5ms after L (line 15), and both use m");

        ExitCodesTest.Run missing = run("run", dir.resolve("missing.yaml").toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("missing.yaml: no such file");
        assertThat(run("run", INVERSION, "--mode", "warp").err()).contains("--mode must be sim, real or linux");
    }

    /**
     * Several files go only to --compare linux, which judges each on its own line and sums up. An
     * IPC file (skipped: no Linux counterpart) and a bad one (could not run) need no SCHED_FIFO.
     */
    @Test
    void severalFilesAreComparedOneLineEachAndOnlyWithCompareLinux(@TempDir Path dir) throws Exception {
        String ipc = Path.of("..", "scenarios", "rpc-inversion-across-kernels.yaml").toString();
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "kernels: [{name: A}]\nthreads: [{name: T, program: [{lock: nowhere}]}]\n");
        ExitCodesTest.Run both = run("run", "--compare", "linux", ipc, bad.toString());
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.out()).contains("skipped  " + ipc + ": The scenario has Mach IPC steps")
                .contains("ERROR    " + bad + ": bad.yaml:2: thread T, step 1: no word named 'nowhere'")
                .contains("0 agreed, 0 differed, 1 skipped (each listed above with why), 1 could not run");
        assertThat(run("run", INVERSION, ipc).exit()).as("several files without --compare").isEqualTo(1);
        assertThat(run("run", "--compare", "linux", "--no-pi", INVERSION, ipc).exit()).isEqualTo(1);
        assertThat(run("run", "--compare", "linux", "--json", INVERSION, ipc).exit()).isEqualTo(1);
        assertThat(run("run", INVERSION, "--skip-unfit").err()).contains("only with --compare linux");
        ExitCodesTest.Run one = run("run", "--compare", "linux", "--verdicts", ipc);
        assertThat(one.exit()).as("an IPC file alone: skipped, not 'this machine cannot'").isZero();
        assertThat(one.out()).contains("skipped  " + ipc).contains("0 agreed, 0 differed, 1 skipped");
    }

    @Test
    void compareAndLinuxModeRefuseWhatTheyCannotDoWithOne() {
        ExitCodesTest.Run warp = run("run", INVERSION, "--compare", "warp");
        assertThat(warp.exit()).isEqualTo(1);
        assertThat(warp.err()).contains("--compare takes linux");
        assertThat(run("run", INVERSION, "--compare", "linux", "--no-pi").exit()).isEqualTo(1);
        assertThat(run("run", INVERSION, "--compare", "linux", "--mode", "real").exit()).isEqualTo(1);
        ExitCodesTest.Run noPi = run("run", INVERSION, "--mode", "linux", "--no-pi");
        assertThat(noPi.exit()).isEqualTo(1);
        assertThat(noPi.err()).contains("linux mode always inherits priorities");
    }

    private static long waitOf(JsonNode json, String thread) {
        for (JsonNode t : json.get("threads")) {
            if (t.get("name").asText().equals(thread)) {
                return t.get("waitNanos").asLong();
            }
        }
        throw new AssertionError("no thread " + thread);
    }
}
