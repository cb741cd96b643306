package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.machxp.cli.Machxp;
import io.machxp.cli.RefusingPort;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.PagerToKernel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** machxp conform pager as a user and a CI run it: output, JUnit XML and the exit status. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConformPagerCommandTest {
    private Pager pager;

    @BeforeEach
    void start() throws Exception {
        pager = Pager.start(new PagerConfig("conform", "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE,
                PagerConfig.defaultObjects()).withLease(Duration.ofMillis(1500)));
    }

    @AfterEach
    void stop() {
        pager.close();
    }

    private record Run(int exit, String out, String err) {}

    private static Run machxp(String... args) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            var cl = Machxp.commandLine();
            cl.setErr(new PrintWriter(err, true));
            exit = cl.execute(args);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err + errBytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void passingCasesExitZeroWithJsonAndJunitXml(@TempDir Path dir) throws Exception {
        Path junit = dir.resolve("conform.xml");
        Run run = machxp("conform", "pager", "--target", pager.target(), "--cases", "^(2\\.4|8\\.4|6\\.1)-", "--json",
                "--junit", junit.toString());

        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(json.get("passed").asInt()).as("the 2.4, 8.4 and 6.1 cases, 8.4-stale-heir-carried the eighth").isEqualTo(8);
        assertThat(json.get("mustFailures").asInt()).isZero();
        assertThat(json.get("cases").get(0).get("section").asText()).isEqualTo("2.4");
        String xml = Files.readString(junit);
        assertThat(xml).contains("<testsuite name=\"machxp conform pager " + pager.target() + "\" tests=\"8\" "
                + "failures=\"0\" errors=\"0\" skipped=\"0\"")
                .contains("classname=\"xp-spec.8.4\" name=\"8.4-relinquish [MUST]");
    }

    @Test
    void aFailedMustCaseExitsTwoAndIsAJunitFailure(@TempDir Path dir) throws Exception {
        Path junit = dir.resolve("conform.xml");
        try (XpProxy proxy = new XpProxy(pager.target(), new XpProxy.Plant() {
            @Override
            public PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
                return m.hasPagerWelcome() ? m.toBuilder().setPagerWelcome(m.getPagerWelcome().toBuilder()
                        .setKernelId(7)).build() : m;
            }
        })) {
            Run run = machxp("conform", "pager", "--target", proxy.target(), "--cases", "^2\\.(4-|5-distinct)", "--junit",
                    junit.toString());

            assertThat(run.exit()).isEqualTo(2);
            assertThat(run.out()).contains("FAIL  MUST   2.5   2.5-distinct-ids")
                    .contains("two live kernels were both given kernel_id 7").contains("1 MUST cases did not pass");
        }
        assertThat(Files.readString(junit)).contains("tests=\"2\" failures=\"1\"")
                .contains("<failure message=\"two live kernels were both given kernel_id 7\"");
    }

    @Test
    void anUnreachableTargetExitsThree() throws Exception {
        // held, not listening: a pager another test starts meanwhile cannot take the port (the kit would test it)
        try (RefusingPort closed = RefusingPort.open()) {
            Run run = machxp("conform", "pager", "--target", closed.target(), "--connect-timeout", "300ms");

            assertThat(run.exit()).isEqualTo(3);
            assertThat(run.err()).contains("cannot reach " + closed.target());
        }
    }

    @Test
    void usageErrorsExitOne() {
        assertThat(machxp("conform", "pager", "--no-such-option").exit()).isEqualTo(1);
        Run noTarget = machxp("conform", "pager");
        assertThat(noTarget.exit()).isEqualTo(1);
        assertThat(noTarget.err()).contains("--target HOST:PORT");
        Run noCase = machxp("conform", "pager", "--target", "127.0.0.1:1", "--cases", "nothing-matches-this");
        assertThat(noCase.exit()).isEqualTo(1);
        assertThat(noCase.err()).contains("matches no case");
    }

    @Test
    void listNamesEveryCaseWithItsSectionAndLevel() {
        Run run = machxp("conform", "pager", "--list");
        assertThat(run.exit()).isZero();
        assertThat(run.out().lines()).hasSameSizeAs(PagerCases.all());
        assertThat(run.out()).contains("8.5-stale-release-refused").contains("(needs --restart-cmd)");
    }
}
