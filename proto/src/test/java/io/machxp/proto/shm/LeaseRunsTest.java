package io.machxp.proto.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The task process's lease check on a kernel file ({@link ShmLayout#leaseRuns(ByteBuffer)}) on
 * this host's real clocks: an end {@code System.nanoTime()} has just passed is refused although
 * the coarse clock, which lags it by milliseconds, has not reached it; and a JVM without the
 * incubator module, or without native access, checks as before (System.nanoTime) instead of
 * failing, as does one without C2, where the coarse clock's downcall costs more than it saves.
 */
class LeaseRunsTest {
    @Test
    void anEndTheClockJustPassedIsRefusedOnTheCoarseClockToo() {
        ByteBuffer kernel = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        for (int i = 0; i < 10_000; i++) {
            ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, System.nanoTime() - 1);
            assertThat(ShmLayout.leaseRuns(kernel)).as("ended 1 ns before now, try %d", i).isFalse();
        }
        ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, System.nanoTime() + 60_000_000_000L);
        assertThat(ShmLayout.leaseRuns(kernel)).isTrue();
        ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, Long.MIN_VALUE);
        assertThat(ShmLayout.leaseRuns(kernel)).as("closed").isFalse();
        ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, Long.MAX_VALUE);
        assertThat(ShmLayout.leaseRuns(kernel)).as("no lease: closed for task processes").isFalse();
    }

    @Test
    void withoutTheModuleOrNativeAccessTheCheckReadsNanoTime() throws Exception {
        assertThat(probe()).isEqualTo("coarse=false ahead=true ended=false closed=false");
        // Java 19 and later have no such module (the JVM would not start with it): the check above is all there is.
        assumeTrue(java.lang.module.ModuleFinder.ofSystem().find(TaskClock.MODULE).isPresent(), "no " + TaskClock.MODULE);
        assertThat(probe("--add-modules", TaskClock.MODULE))
                .isEqualTo("coarse=false ahead=true ended=false closed=false");
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "the coarse clock is Linux's");
        assertThat(probe("--add-modules", TaskClock.MODULE, "--enable-native-access=ALL-UNNAMED"))
                .isEqualTo("coarse=true ahead=true ended=false closed=false");
    }

    /**
     * A JVM without C2 (C1 only, as {@code ./machxp demo} runs, or no JIT) checks on
     * {@code System.nanoTime()} though it has the module and native access: there the downcall to
     * the coarse clock is not compiled and costs microseconds a check ({@link TopCompiler}); with
     * C2, tiered or alone, it reads the coarse clock.
     */
    @Test
    void aJvmWithoutC2ChecksOnNanoTimeThoughItCouldReadTheCoarseClock() throws Exception {
        assumeTrue(java.lang.module.ModuleFinder.ofSystem().find(TaskClock.MODULE).isPresent(), "no " + TaskClock.MODULE);
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "the coarse clock is Linux's");
        String[] flags = {"--add-modules", TaskClock.MODULE, "--enable-native-access=ALL-UNNAMED"};
        assertThat(probe(with(flags, "-XX:TieredStopAtLevel=1"))).isEqualTo("coarse=false ahead=true ended=false closed=false");
        assertThat(probe(with(flags, "-XX:TieredStopAtLevel=3"))).isEqualTo("coarse=false ahead=true ended=false closed=false");
        assertThat(probe(with(flags, "-Xint"))).isEqualTo("coarse=false ahead=true ended=false closed=false");
        assertThat(probe(with(flags, "-XX:-TieredCompilation"))).as("C2 alone")
                .isEqualTo("coarse=true ahead=true ended=false closed=false");
        assertThat(probe(with(flags, "-XX:TieredStopAtLevel=4"))).isEqualTo("coarse=true ahead=true ended=false closed=false");
    }

    private static String[] with(String[] flags, String more) {
        String[] all = java.util.Arrays.copyOf(flags, flags.length + 1);
        all[flags.length] = more;
        return all;
    }

    /** The last line {@link LeaseRunsProbe} prints in a JVM started with {@code jvmArgs}. */
    private static String probe(String... jvmArgs) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LeaseRunsProbe.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
            }
        }
        assertThat(p.waitFor()).as("%s", lines).isZero();
        return lines.get(lines.size() - 1);
    }
}
