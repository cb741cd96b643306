package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * `machxp kernel` with several pagers (docs/multi-pager.md, "Running it"), as a user types it:
 * one --pager per pager or a comma-separated list, and errors that say which pager is wrong.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ManyPagersCliTest {

    /**
     * --pager repeated is the list (as --object and --ipc-peer repeat); the start names the pager that is down.
     * That pager's port is held, not listening, for the whole test ({@link RefusingPort}): a port merely
     * free when the test began could be a running pager's by the time the kernel connects, which
     * welcomed the kernel, and the command then ran until its timeout. The refusal ends the start at
     * once, so a connect timeout longer than the default costs nothing and leaves a slow machine
     * time to start the kernel (the primary's answer is not awaited).
     */
    @Test
    void repeatedPagerOptionsAreTheListAndAPagerThatIsDownIsNamed() throws Exception {
        try (RefusingPort refusing = RefusingPort.open();
                Pager primary = Pager.start(PagerConfig.loopback(Map.of("zero", 4096L)))) {
            String down = refusing.target();
            ExitCodesTest.Run r = ExitCodesTest.run("kernel", "--name", "A", "--port", "0", "--shm-dir", "none",
                    "--connect-timeout", "20", "--pager", primary.target(), "--pager", down);
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(r.err()).contains("kernel A: cannot reach pager 1 at " + down + ": Connection refused")
                    .doesNotContain("specified only once").doesNotContain("\tat ");

            ExitCodesTest.Run comma = ExitCodesTest.run("kernel", "--name", "B", "--port", "0", "--shm-dir", "none",
                    "--connect-timeout", "20", "--pager", down + "," + primary.target());
            assertThat(comma.exit()).as(comma.err()).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(comma.err()).contains("cannot reach pager 0 (the primary) at " + down);
        }
    }

    @Test
    void aPagerListedTwiceOrAnEmptyAddressIsAUsageError() {
        ExitCodesTest.Run twice = ExitCodesTest.run("kernel", "--name", "A", "--port", "0", "--pager",
                "127.0.0.1:7070,127.0.0.1:7075", "--pager", "127.0.0.1:7070");
        assertThat(twice.exit()).as(twice.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(twice.err()).contains("pager 127.0.0.1:7070 is listed twice").hasLineCount(1);

        ExitCodesTest.Run empty = ExitCodesTest.run("kernel", "--name", "A", "--port", "0", "--pager", "127.0.0.1:7070,");
        assertThat(empty.exit()).as(empty.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(empty.err()).contains("pager 1 of '127.0.0.1:7070,' has no address").doesNotContain("TLS")
                .hasLineCount(1);
    }

    @Test
    void anAssignmentToAPagerThatDoesNotExistIsAUsageError() {
        ExitCodesTest.Run r = ExitCodesTest.run("kernel", "--name", "A", "--port", "0", "--pager", "127.0.0.1:7070",
                "--pager", "127.0.0.1:7075", "--object-pagers", "orders=2");
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("object 'orders' is assigned to pager 2, but pagers are numbered 0 to 1")
                .hasLineCount(1);

        ExitCodesTest.Run twice = ExitCodesTest.run("kernel", "--name", "A", "--port", "0", "--pager",
                "127.0.0.1:7070,127.0.0.1:7075", "--object-pagers", "orders=0,orders=1");
        assertThat(twice.exit()).as(twice.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(twice.err()).contains("object 'orders' is assigned twice, to pager 0 and to pager 1").hasLineCount(1);
    }
}
