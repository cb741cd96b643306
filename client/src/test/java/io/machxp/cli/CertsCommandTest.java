package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.transport.TlsFiles;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** machxp certs DIR: a development CA and a certificate per process, which load as TLS files. */
class CertsCommandTest {
    private static final List<String> FILES = List.of("ca.pem", "ca.key", "pager.pem", "pager.key", "kernel.pem",
            "kernel.key", "client.pem", "client.key");

    private record Run(int exit, String out, String err) {}

    static Run certs(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of("certs"));
        all.addAll(List.of(args));
        int exit = cl.execute(all.toArray(new String[0]));
        return new Run(exit, out.toString(), err.toString());
    }

    private static X509Certificate certificate(Path file) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(file)));
    }

    /**
     * Every file is written; each certificate is EC P-256, signed by the CA, valid for --days, named for
     * loopback and every --host, for server and client use; each set loads as TLS files.
     */
    @Test
    void writesACaAndACertificatePerProcessThatLoad(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("certs");
        Run run = certs(dir.toString(), "--host", "node1.example", "--host", "10.0.0.5", "--days", "30");
        assertThat(run.exit()).as(run.err()).isZero();
        for (String f : FILES) {
            assertThat(dir.resolve(f)).isRegularFile();
            assertThat(run.out()).contains(dir.resolve(f).toString());
        }
        assertThat(run.out()).contains("--tls-cert " + dir.resolve("kernel.pem")).contains("./machxp pager")
                .contains("./machxp kernel").contains("./machxp demo --connect");

        X509Certificate ca = certificate(dir.resolve("ca.pem"));
        assertThat(ca.getBasicConstraints()).as("a CA").isGreaterThanOrEqualTo(0);
        for (String role : CertsCommand.ROLES) {
            X509Certificate cert = certificate(dir.resolve(role + ".pem"));
            cert.verify(ca.getPublicKey()); // throws unless the CA signed it
            assertThat(cert.getBasicConstraints()).as("not a CA").isEqualTo(-1);
            assertThat(cert.getPublicKey()).isInstanceOf(ECPublicKey.class);
            assertThat(((ECPublicKey) cert.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
            assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
            List<String> names = cert.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
            assertThat(names).contains("localhost", "127.0.0.1", "node1.example", "10.0.0.5");
            assertThat(names).contains("0:0:0:0:0:0:0:1");
            Duration validity = Duration.between(Instant.now(), cert.getNotAfter().toInstant());
            assertThat(validity).isBetween(Duration.ofDays(29), Duration.ofDays(30));
            assertThat(cert.getNotBefore().toInstant()).isBefore(Instant.now());

            TlsFiles files = TlsFiles.inDirectory(dir, role);
            assertThat(files.keyManagers()).isNotEmpty();
            assertThat(files.trustManagers()).isNotEmpty();
            assertThat(files.serverCredentials()).isNotNull();
            assertThat(files.channelCredentials()).isNotNull();
        }
        assertThat(Files.readString(dir.resolve("kernel.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            for (String key : List.of("ca.key", "pager.key", "kernel.key", "client.key")) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(key))))
                        .as(key).isEqualTo("rw-------");
            }
        }
    }

    /** A second run refuses to overwrite and changes nothing; with --force it writes a new CA. */
    @Test
    void refusesToOverwriteWithoutForce(@TempDir Path dir) throws Exception {
        assertThat(certs(dir.toString()).exit()).isZero();
        byte[] ca = Files.readAllBytes(dir.resolve("ca.pem"));
        Run again = certs(dir.toString());
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("already holds ca.pem").contains("--force").doesNotContain("\tat ");
        assertThat(Files.readAllBytes(dir.resolve("ca.pem"))).isEqualTo(ca);

        assertThat(certs(dir.toString(), "--force").exit()).isZero();
        assertThat(Files.readAllBytes(dir.resolve("ca.pem"))).isNotEqualTo(ca);
        assertThat(TlsFiles.inDirectory(dir, "kernel").keyManagers()).isNotEmpty();
    }

    /** A --host that is neither a DNS name nor an IP address, or a bad --days, fails before any file is written. */
    @Test
    void badOptionsWriteNothing(@TempDir Path dir) throws Exception {
        for (Map.Entry<String[], String> bad : Map.of(
                new String[] {"--host", "not a host"}, "--host not a host is neither a DNS name nor an IP address",
                new String[] {"--host", "1.2.3.400"}, "--host 1.2.3.400 is not a valid IP address",
                new String[] {"--days", "0"}, "--days must be 1 to 36500").entrySet()) {
            List<String> args = new ArrayList<>(List.of(dir.resolve("c").toString()));
            args.addAll(List.of(bad.getKey()));
            Run run = certs(args.toArray(new String[0]));
            assertThat(run.exit()).isEqualTo(1);
            assertThat(run.err()).contains(bad.getValue()).doesNotContain("\tat ");
            assertThat(dir.resolve("c")).doesNotExist();
        }
    }
}
