package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The TLS options of machxp pager, kernel and demo as a user meets them: one line that says what to
 * do, exit 1, no stack trace. 192.0.2.1 is TEST-NET-1: not loopback, and no pager is there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsOptionsTest {
    private record Run(int exit, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        return new Run(cl.execute(args), err.toString());
    }

    /** A kernel whose pager is off loopback, without TLS files: refused at startup, saying what to do. */
    @Test
    void aKernelWithAPagerOffLoopbackAndNoTlsFilesIsRefused() {
        Run r = run("kernel", "--name", "A", "--pager", "192.0.2.1:7070", "--port", "0", "--connect-timeout", "30");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("machxp kernel: kernel A would connect to 192.0.2.1:7070 without TLS, which is"
                + " allowed only to a loopback address: give --tls-cert, --tls-key and --tls-ca (machxp certs DIR makes"
                + " them), or --plaintext to connect unauthenticated" + System.lineSeparator());
    }

    /** With --plaintext the kernel gets past the check and fails only because no pager answers. */
    @Test
    void plaintextLetsTheKernelTry() {
        Run r = run("kernel", "--name", "A", "--pager", "192.0.2.1:7070", "--port", "0", "--connect-timeout", "1",
                "--plaintext");
        assertThat(r.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("kernel A").contains("192.0.2.1:7070").doesNotContain("without TLS")
                .doesNotContain("\tat ");
    }

    /** A pager on every address without TLS files is refused. */
    @Test
    void aPagerOnEveryAddressWithoutTlsIsRefused() {
        Run r = run("pager", "--port", "0", "--bind", "0.0.0.0");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("machxp pager: pager pager would listen on 0.0.0.0 without TLS")
                .contains("--plaintext").doesNotContain("\tat ");
    }

    /** Some but not all of the three files, or files and --plaintext together, are refused by name. */
    @Test
    void incompleteOrContradictoryOptionsAreRefused(@TempDir Path dir) {
        String cert = dir.resolve("kernel.pem").toString();
        Run partial = run("kernel", "--name", "A", "--pager", "127.0.0.1:1", "--tls-cert", cert);
        assertThat(partial.exit()).isEqualTo(1);
        assertThat(partial.err()).contains("mutual TLS needs all of --tls-cert, --tls-key and --tls-ca; add --tls-key and --tls-ca");
        Run both = run("pager", "--port", "0", "--plaintext", "--tls-cert", cert, "--tls-key", cert, "--tls-ca", cert);
        assertThat(both.exit()).isEqualTo(1);
        assertThat(both.err()).contains("--plaintext and TLS files exclude each other");
        Run embedded = run("demo", "--plaintext");
        assertThat(embedded.exit()).isEqualTo(1);
        assertThat(embedded.err()).contains("are for --connect");
    }
}
